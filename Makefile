# Two entry points: `make run` (install, then execute the notebooks) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BUDGET ?= quick
NOTEBOOKS ?=

.PHONY: install run test results

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q -r requirements.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/python -m cifar_helpers run --budget $(BUDGET) $(NOTEBOOKS)

test: install
	CIFAR_BUDGET=smoke $(VENV)/bin/python -m pytest tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider

results: install
	$(VENV)/bin/python -m cifar_helpers results

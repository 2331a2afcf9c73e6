# Two entry points: `make run` (install, then execute the notebooks) and `make test`.
# JAX twins: `make run-jax`, `make test-jax` (KERAS_BACKEND=jax; installs requirements-jax.txt as well).
# The book: `make book` (the committed notebooks as a site in book/_build/html), `make test-book` (its browser tests).
PYTHON ?= python3
VENV ?= .venv
BUDGET ?= quick
NOTEBOOKS ?=
JAX_NOTEBOOKS ?= notebooks/00_data_and_setup.ipynb notebooks/01_baseline_cnn.ipynb notebooks/10_speedrun.ipynb
# The unit tests that touch Keras (the others read records, notebooks and plots: backend-free, run once on TensorFlow).
JAX_TESTS ?= tests/test_augment.py tests/test_backend.py tests/test_checks_and_split.py tests/test_data.py \
	tests/test_devices.py tests/test_diagnose.py tests/test_distributed.py tests/test_inception.py \
	tests/test_models_and_schedules.py tests/test_speed.py tests/test_speedrun.py tests/test_training.py
PYTEST = $(VENV)/bin/python -m pytest -p no:cacheprovider --nbval-lax --nbval-current-env --durations=15
# The book has a venv of its own (Sphinx, Playwright: no Keras) and uses Debian's chromium.
BOOK_VENV ?= .venv-book
BOOK_BUILD ?= book/_build
CHROMIUM ?= /usr/bin/chromium

.PHONY: install install-jax run run-jax test test-jax results install-book book test-book

$(VENV)/.installed: requirements.txt requirements-common.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-jax: $(VENV)/.installed requirements-jax.txt
	$(VENV)/bin/python -m pip install -q -r requirements-jax.txt
	touch $@

install: $(VENV)/.installed

install-jax: $(VENV)/.installed-jax

run: install
	$(VENV)/bin/python -m cifar_helpers run --budget $(BUDGET) $(NOTEBOOKS)

run-jax: install-jax
	KERAS_BACKEND=jax $(VENV)/bin/python -m cifar_helpers run --budget $(BUDGET) $(NOTEBOOKS)

test: install
	CIFAR_BUDGET=smoke KERAS_BACKEND=tensorflow $(PYTEST) tests notebooks

test-jax: install-jax
	CIFAR_BUDGET=smoke KERAS_BACKEND=jax $(PYTEST) $(JAX_TESTS) $(JAX_NOTEBOOKS)

results: install
	$(VENV)/bin/python -m cifar_helpers results

$(BOOK_VENV)/.installed: requirements-book.txt
	$(PYTHON) -m venv $(BOOK_VENV)
	$(BOOK_VENV)/bin/python -m pip install -q -r requirements-book.txt
	touch $@

install-book: $(BOOK_VENV)/.installed

# Built afresh each time, from the committed notebooks as they are (never executed); -W: any warning fails it.
book: install-book
	rm -rf $(BOOK_BUILD)
	$(BOOK_VENV)/bin/python book/stage.py $(BOOK_BUILD)/src
	$(BOOK_VENV)/bin/sphinx-build -W -q -c book $(BOOK_BUILD)/src $(BOOK_BUILD)/html

test-book: book
	@test -x $(CHROMIUM) || { echo "make test-book needs Debian's chromium: apt-get install chromium"; exit 1; }
	CHROMIUM=$(CHROMIUM) $(BOOK_VENV)/bin/python -m pytest -p no:cacheprovider -rs --durations=5 book/tests

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
	tests/test_devices.py tests/test_diagnose.py tests/test_distributed.py tests/test_fused_norm.py tests/test_inception.py \
	tests/test_models_and_schedules.py tests/test_speed.py tests/test_speedrun.py tests/test_training.py
PYTEST = $(VENV)/bin/python -m pytest -p no:cacheprovider --nbval-lax --nbval-current-env --durations=15
# The book has a venv of its own (Sphinx, Playwright: no Keras) and uses Debian's chromium.
BOOK_VENV ?= .venv-book
BOOK_BUILD ?= book/_build
CHROMIUM ?= /usr/bin/chromium

.PHONY: install install-jax run run-jax lint test test-jax test-both results install-book book test-book

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

# Two pytest processes side by side (one per core): the tests with notebooks 00-04, and notebooks 05-08. Each
# notebook reads the smoke records of the ones before it in its own half (02 reads 01's, 06 reads 05's, 08 reads 06's);
# 09 and 10 read both halves' records, so they run after. (pytest-xdist would split nbval's notebooks between kernels.)
TEST_FIRST_HALF = tests $(wildcard notebooks/0[0-4]_*.ipynb)
TEST_SECOND_HALF = $(wildcard notebooks/0[5-8]_*.ipynb)
TEST_LAST = notebooks/09_summary.ipynb notebooks/10_speedrun.ipynb
TEST_TF = CIFAR_BUDGET=smoke KERAS_BACKEND=tensorflow $(PYTEST)
TEST_JAX = CIFAR_BUDGET=smoke KERAS_BACKEND=jax $(PYTEST)

# ruff, configured in pyproject.toml (the notebooks are left as they are laid out for reading).
lint: install
	$(VENV)/bin/ruff check cifar_helpers tests book scripts
	$(VENV)/bin/ruff format --check cifar_helpers tests book scripts

test: install lint
	@$(TEST_TF) $(TEST_FIRST_HALF) > .test-first.log 2>&1 & first=$$!; \
	$(TEST_TF) $(TEST_SECOND_HALF) > .test-second.log 2>&1; second=$$?; wait $$first; first=$$?; \
	cat .test-first.log .test-second.log; rm -f .test-first.log .test-second.log; \
	echo "tests and notebooks 00-04: exit $$first; notebooks 05-08: exit $$second"; [ $$first -eq 0 ] && [ $$second -eq 0 ]
	$(TEST_TF) $(TEST_LAST)

test-jax: install-jax
	$(TEST_JAX) $(JAX_TESTS) $(JAX_NOTEBOOKS)

# What CI runs: make test and make test-jax's pytest runs as two streams, one per core, each about 14 minutes.
# One: the tests and notebooks 00-04 on TensorFlow, then the JAX tests. Two: notebooks 05-08, then (once the first
# stream's notebooks are done: 09 and 10 read both halves' records) 09 and 10, then the JAX notebooks.
test-both: install-jax lint
	@rm -f .first-half-done; \
	{ $(TEST_TF) $(TEST_FIRST_HALF) > .test-1a.log 2>&1; echo $$? > .first-half-done; \
	  $(TEST_JAX) $(JAX_TESTS) > .test-1b.log 2>&1; } & one=$$!; \
	$(TEST_TF) $(TEST_SECOND_HALF) > .test-2a.log 2>&1; tf2=$$?; \
	while [ ! -f .first-half-done ]; do sleep 5; done; \
	$(TEST_TF) $(TEST_LAST) > .test-2b.log 2>&1; tf3=$$?; \
	$(TEST_JAX) $(JAX_NOTEBOOKS) > .test-2c.log 2>&1; jax2=$$?; \
	wait $$one; jax1=$$?; tf1=$$(cat .first-half-done); \
	cat .test-1a.log .test-2a.log .test-2b.log .test-1b.log .test-2c.log; rm -f .test-*.log .first-half-done; \
	echo "TensorFlow: tests and notebooks 00-04 exit $$tf1, 05-08 exit $$tf2, 09-10 exit $$tf3;" \
	     "JAX: tests exit $$jax1, notebooks exit $$jax2"; \
	[ $$tf1 -eq 0 ] && [ $$tf2 -eq 0 ] && [ $$tf3 -eq 0 ] && [ $$jax1 -eq 0 ] && [ $$jax2 -eq 0 ]

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

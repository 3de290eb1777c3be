# make train : create .venv, install, train the course's model on SIGNS and report accuracy
# make test  : create/update .venv and run the whole test suite (what CI runs)
# make quick : the quick tier: no long training, notebook kernel, subprocess or browser
# Data: ships in datasets/ (train_signs.h5, test_signs.h5); SIGNS_DATA_DIR points elsewhere.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup train test quick bench clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

train: setup
	$(VENV)/bin/signs train $(ARGS)

test: setup
	$(PY) -m pytest --doctest-modules signs_model tests $(PYTEST_ARGS)

quick: setup
	$(PY) -m pytest --doctest-modules signs_model tests -m "not slow and not notebook and not subprocess and not browser" $(PYTEST_ARGS)

bench: setup
	$(PY) benchmarks/train_speed.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache

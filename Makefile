# make run: set up .venv (when missing or out of date) and start the app. make test: the same, then the quick tests;
# make test-all: every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

REPLICAS ?= $(shell nproc 2>/dev/null || echo 2)
PORT ?= 8080

.PHONY: run test test-all train serve bench clean

$(BIN)/python:
	@echo "Creating the virtual environment $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)

# pip's own progress: one line per package, so a first install (over 1 GB, a few minutes) is never silent
$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	@echo "Installing the app's packages into $(VENV) (requirements.txt; the first time takes a few minutes)"
	$(BIN)/python -m pip install --progress-bar off -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	@echo "Installing the app's and the tests' packages into $(VENV) (requirements-dev.txt; the first time takes a few minutes)"
	$(BIN)/python -m pip install --progress-bar off -r requirements-dev.txt
	touch $@

# a TEACHER_KEY that is too easy to guess stops the start, with the reason
run: $(VENV)/.run-installed
	$(BIN)/python -m classroom.drawings check-key
	$(BIN)/python -m streamlit run app.py

# the quick tier, after each change: everything but what pytest.ini marks `full` (a few minutes)
test: $(VENV)/.test-installed
	$(BIN)/python -m pytest -m "not full"

# everything: the browser suites, nginx, PostgreSQL, the hostile and load tests too, three tests at a time
# (most of those tests wait on browsers and servers), handed out two at a time, the longest first (tests/conftest.py),
# so that no worker holds a queue of long ones while the others wait; the 25 slowest are listed at the end
test-all: $(VENV)/.test-installed
	$(BIN)/python -m pytest -n 3 --dist load --maxschedchunk 2 --durations=25

# N replicas behind nginx on PORT (sticky sessions, health checks, one drawings store); Ctrl-C stops them all
serve: $(VENV)/.run-installed
	$(BIN)/python -m tools.serve --replicas $(REPLICAS) --port $(PORT)

train: $(VENV)/.run-installed
	$(BIN)/python cnn/train.py

clean:
	rm -rf $(VENV)

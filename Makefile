# make run: set up .venv (when missing or out of date) and start the app. make test: the same, then every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test train bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

run: $(VENV)/.run-installed
	$(BIN)/python -m streamlit run app.py

test: $(VENV)/.test-installed
	$(BIN)/python -m pytest

train: $(VENV)/.run-installed
	$(BIN)/python cnn/train.py

clean:
	rm -rf $(VENV)

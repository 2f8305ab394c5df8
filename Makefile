# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app inspection

.PHONY: run test lint install install-test ci bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty --logins-file instance/demo-logins.txt
	@echo ""
	@echo "Demo logins (also in instance/demo-logins.txt):"
	@cat instance/demo-logins.txt 2>/dev/null || echo "  (the demo was loaded earlier without a logins file)"
	@echo ""
	@echo "Krogtillsyn: http://127.0.0.1:5000"
	$(FLASK) run --host 127.0.0.1 --port 5000

lint: install-test
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m bandit -q -ll -c pyproject.toml -r inspection

test: lint
	$(PY) -m pytest

bench: install-test
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

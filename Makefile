# Two commands matter: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench soak clean venv

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/motcua local

test: $(STAMP)
	@scripts/ensure-browser.sh
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m motcua.bench

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

# Two commands matter: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench soak hostile clean venv synth diff deploy

venv: $(STAMP)

# The venv runs the Python .python-version names (pyenv's python3 reads that file), the one
# Lambda runs (infra/package.py); a venv on another one, e.g. an older checkout's, is rebuilt.
VENV_PYTHON = $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null

$(STAMP): requirements.txt requirements-receipts.txt requirements-dev.txt pyproject.toml .python-version
	test "$$($(VENV_PYTHON))" = "$$(cat .python-version)" || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	@test "$$($(VENV_PYTHON))" = "$$(cat .python-version)" || { echo "$(PYTHON) is not Python $$(cat .python-version) (.python-version); set PYTHON=python$$(cat .python-version)"; exit 1; }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/motcua local

# Two workers (pytest-xdist): each test file stays on one worker; synths take turns on infra/build
# (tests/conftest.py). PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2

# ruff (style and likely bugs), mypy (types of the shipped code) and lint-imports (the
# architecture's contracts, pyproject.toml); configured in pyproject.toml.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# checkov (infra/checkov.py) runs from a venv of its own; tests/infra runs it over the template.
CHECKOV_STAMP := .venv-checkov/.installed-stamp
$(CHECKOV_STAMP): requirements-checkov.txt .python-version
	rm -rf .venv-checkov && $(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $(CHECKOV_STAMP)

test: lint $(CHECKOV_STAMP)
	@scripts/ensure-browser.sh
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile

bench: $(STAMP)
	$(PY) -m motcua.bench

# infra/: the CDK app. STAGE is one of infra/stages.json's stages; its settings are checked
# before Node or the CDK CLI (pinned in infra/package.json) are even installed.
STAGE ?=
CDK_OUT := infra/cdk.out/$(STAGE)
NODE_STAMP := infra/node_modules/.installed-stamp
# The CDK CLI, and the CDK app's jsii it starts, run on the Node.js 22 LTS that infra/package.json
# pins (npm's node package), whatever Node the machine has.
CDK := cd infra && PATH="$$PWD/node_modules/.bin:$$PATH" node_modules/.bin/cdk

$(NODE_STAMP): infra/package.json infra/package-lock.json
	cd infra && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

synth: $(STAMP)
	$(PY) -m infra.stages $(STAGE)
	@$(MAKE) --no-print-directory $(NODE_STAMP)
	$(CDK) synth -c stage=$(STAGE) --output cdk.out/$(STAGE) --quiet
	$(VENV)/bin/cfn-lint --non-zero-exit-code error $(CDK_OUT)/motcua-$(STAGE).template.json
	@echo "Templates in $(CDK_OUT)/ (cdk-nag AwsSolutions and cfn-lint passed)"

diff: $(STAMP)
	$(PY) -m infra.stages $(STAGE)
	@$(MAKE) --no-print-directory $(NODE_STAMP)
	$(CDK) diff -c stage=$(STAGE) --output cdk.out/$(STAGE)

deploy: $(STAMP)
	$(PY) -m infra.stages $(STAGE)
	@$(MAKE) --no-print-directory $(NODE_STAMP)
	$(CDK) deploy -c stage=$(STAGE) --output cdk.out/$(STAGE) --require-approval broadening

# Long variants of the reliability suites, one after another; each step ends with one line
# "== soak step: NAME: PASS in N s" (scripts/soak-step.sh). Sizes: docs/reliability.md, Load.
# 1. load on a local stack it starts: SOAK_CITIZENS citizens submit, pay through the VNPay
#    simulator and track their dossier for SOAK_SECONDS while officers process; prints the
#    latency table; fails on any 5xx, lost event or report mismatch (motcua/soak.py);
# 2. schemathesis with 200 examples per operation against the local stack's /openapi.json;
# 3. the randomized report workload again, 2,000 dossiers through the API on another seed
#    (`make test` runs seed 2026), so each soak explores other paths and orders;
# 4. the duplicate and throttling suites at full size (20 seeds, 1,000 operations) and the
#    crash points (every call of every transition, as in `make test`).
SOAK_SECONDS ?= 120
SOAK_CITIZENS ?= 8
SOAK_WORKLOAD_SEED ?= 7
STEP := scripts/soak-step.sh
soak: $(STAMP)
	$(STEP) "1/4 load, $(SOAK_CITIZENS) citizens x $(SOAK_SECONDS) s" \
	  $(PY) -m motcua.soak --duration $(SOAK_SECONDS) --citizens $(SOAK_CITIZENS)
	MOTCUA_FUZZ_EXAMPLES=200 MOTCUA_FUZZ_SCENARIOS=200 MOTCUA_FUZZ_STEPS=20 $(STEP) "2/4 schemathesis, 200 examples per operation" \
	  $(PY) -m pytest -q tests/stack/test_fuzz_openapi.py
	MOTCUA_WORKLOAD_SEED=$(SOAK_WORKLOAD_SEED) $(STEP) "3/4 report workload, 2,000 dossiers, seed $(SOAK_WORKLOAD_SEED)" \
	  $(PY) -m pytest -q tests/api/test_report_workload.py
	MOTCUA_THROTTLE_OPS=1000 MOTCUA_DUPLICATE_ROUNDS=20 $(STEP) "4/4 duplicates x20, throttling x1000, crash points" \
	  $(PY) -m pytest -q tests/api/test_throttling.py tests/api/test_duplicates.py tests/api/test_crash_points.py

# Issue 18's black-box run (motcua/hostile.py): about 1,300 checks over HTTP against a local stack it
# starts on free loopback ports and stops afterwards; exit 1 on any failure. Against a running
# `make run` instead: .venv/bin/motcua hostile --url http://127.0.0.1:8000 [--log run.log].
hostile: $(STAMP)
	$(VENV)/bin/motcua hostile

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info infra/build infra/cdk.out infra/chalice.out infra/node_modules

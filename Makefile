# Two commands matter: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench soak clean venv synth diff deploy

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/motcua local

# Two workers (pytest-xdist): each test file stays on one worker, tests/infra all on one
# (tests/conftest.py). PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2

test: $(STAMP)
	@scripts/ensure-browser.sh
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist loadgroup

bench: $(STAMP)
	$(PY) -m motcua.bench

# infra/: the CDK app. STAGE is one of infra/stages.json's stages; its settings are checked
# before Node or the CDK CLI (pinned in infra/package.json) are even installed.
STAGE ?=
CDK_OUT := infra/cdk.out/$(STAGE)
NODE_STAMP := infra/node_modules/.installed-stamp
CDK := cd infra && JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 node_modules/.bin/cdk

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

# The randomized report workload at the issue's size, 2,000 dossiers through the API (`make test`
# runs 500); linear on moto, about 0.3 s of CPU per dossier, so roughly ten minutes.
soak: $(STAMP)
	MOTCUA_WORKLOAD_DOSSIERS=2000 $(PY) -m pytest -q tests/api/test_report_workload.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info infra/build infra/cdk.out infra/chalice.out infra/node_modules

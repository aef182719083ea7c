# Everything a newcomer needs: `make run` serves, `make test` proves it works.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
GEN := gen/python
PROTOS := $(wildcard proto/crm/v1/*.proto)
GENERATED := $(GEN)/crm/v1/.stamp
DEPS := gen/proto-deps
INSTALLED := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)/$(GEN):$(CURDIR)

.PHONY: run test lint proto bench mutation rebuild-projections deploy-check pins clean

run: $(INSTALLED) $(GENERATED)
	scripts/run-dev.sh

test: lint
	scripts/ensure-postgres-binaries.sh
	scripts/ensure-chromium.sh
	scripts/ensure-kubectl.sh
	$(PY) -m pytest

lint: $(INSTALLED) $(GENERATED)
	$(VENV)/bin/ruff check services tests scripts bench setup.py
	$(VENV)/bin/ruff format --check services tests scripts bench setup.py
	$(VENV)/bin/mypy services tests scripts bench setup.py
	$(VENV)/bin/buf lint

proto: $(GENERATED)

# deploy/ offline: the Kubernetes base rendered and validated, compose.yaml, the Dockerfile.
deploy-check: $(INSTALLED) $(GENERATED)
	scripts/ensure-kubectl.sh
	$(PY) -m pytest tests/deploy

# BENCH_QUICK=1 for a reduced run; BENCH_DATABASE_URL names the PostgreSQL to use.
bench: $(INSTALLED) $(GENERATED)
	$(PY) -m bench

# One small fault at a time in the rule modules; MUTATION_ARGS="--max-per-module 40".
mutation: $(INSTALLED) $(GENERATED)
	$(PY) scripts/mutation.py $(MUTATION_ARGS)

rebuild-projections: $(INSTALLED) $(GENERATED)
	$(PY) -m services.crm rebuild-projections

$(INSTALLED): requirements.txt requirements-dev.txt
	scripts/ensure-python-venv.sh $(PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The package build runs the same script. google/api/*.proto come from the pinned
# googleapis-common-protos wheel, kept under gen/ so that buf sees them too (it cannot
# fetch them from its registry here).
$(GENERATED): $(INSTALLED) $(PROTOS) scripts/generate_code.py
	rm -rf gen
	$(PY) scripts/generate_code.py $(GEN) --stubs --google-protos $(DEPS)
	touch $@

# Exact pins from the direct dependencies in requirements*.in, resolved from PyPI alone
# (not a machine's own mirrors or caps); a pin moves only when the resolver must, or
# with PINS_ARGS="--upgrade-package NAME" (or --upgrade).
PIP_COMPILE = env -u PIP_CONSTRAINT -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL \
	PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make pins" $(VENV)/bin/pip-compile \
	--quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
	--annotation-style line $(PINS_ARGS)
pins: $(INSTALLED)
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in

clean:
	rm -rf $(VENV) gen .pytest_cache .mypy_cache .ruff_cache

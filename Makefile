# Everything a newcomer needs: `make run` serves, `make test` proves it works.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
GEN := gen/python
PROTOS := $(wildcard proto/crm/v1/*.proto)
GENERATED := $(GEN)/crm/v1/.stamp
DEPS := gen/proto-deps
GOOGLEAPIS = $(shell $(PY) -c "import google.api.annotations_pb2 as m, os; print(os.path.dirname(os.path.dirname(os.path.dirname(m.__file__))))")
INSTALLED := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)/$(GEN):$(CURDIR)

.PHONY: run test lint proto bench mutation rebuild-projections deploy-check clean

run: $(INSTALLED) $(GENERATED)
	scripts/run-dev.sh

test: lint
	scripts/ensure-postgres-binaries.sh
	scripts/ensure-chromium.sh
	scripts/ensure-kubectl.sh
	$(PY) -m pytest

lint: $(INSTALLED) $(GENERATED)
	$(VENV)/bin/ruff check services tests scripts bench
	$(VENV)/bin/ruff format --check services tests scripts bench
	$(VENV)/bin/mypy services tests scripts bench
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

# google/api/*.proto come from the pinned googleapis-common-protos wheel; copied
# under gen/ so that buf sees them too (it cannot fetch them from its registry here).
$(GENERATED): $(INSTALLED) $(PROTOS)
	rm -rf gen && mkdir -p $(GEN) $(DEPS)/google/api
	cp $(GOOGLEAPIS)/google/api/annotations.proto $(GOOGLEAPIS)/google/api/http.proto $(DEPS)/google/api/
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m grpc_tools.protoc -Iproto -I$(DEPS) \
		--python_out=$(GEN) --grpc_python_out=$(GEN) \
		--mypy_out=$(GEN) --mypy_grpc_out=$(GEN) $(PROTOS)
	touch $@

clean:
	rm -rf $(VENV) gen .pytest_cache .mypy_cache .ruff_cache

# csirtnet: every set-up step lives here; see README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
SHARED ?= ../shared
VENV := .venv
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_ENV := CSIRTNET_DEBUG=false CSIRTNET_SECRET_KEY=demo-only-secret-key-not-for-production-use \
	CSIRTNET_SECURE_COOKIES=false CSIRTNET_EMAIL=file CSIRTNET_VAR_DIR=$(CURDIR)/var \
	CSIRTNET_TASKS_BACKEND=django_tasks_db.DatabaseBackend CSIRTNET_SITE_URL=http://$(HOST):$(PORT)
TEST_ENV := CSIRTNET_DEBUG=false CSIRTNET_SECRET_KEY=test-only-secret-key-not-for-production-use \
	CSIRTNET_VAR_DIR=$(CURDIR)/var/test CSIRTNET_SHARED_DIR=$(abspath $(SHARED))
PG_TEST_DB ?= csirtnet_ci

.PHONY: venv demo cli test test-sqlite test-postgres lint bench fuzz soak messages clean system-deps

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv>=0.5,<1"

$(BIN)/csirtnet: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON) --quiet
	@touch $@

venv: $(BIN)/csirtnet

# Debian packages the suite needs: chromium for browser tests, gettext for catalogs, gnupg.
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v msgfmt >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium gettext gnupg >/dev/null; fi

messages: venv
	cd src/csirtnet && $(TEST_ENV) ../../$(BIN)/python -m django compilemessages \
		--settings=csirtnet.settings -v0

demo: venv messages
	@mkdir -p var/mail
	@echo "== migrate var/csirtnet.sqlite3"; $(DEMO_ENV) $(BIN)/csirtnet migrate -v0
	@echo "== load the directory"; $(DEMO_ENV) $(BIN)/csirtnet load-directory
	@echo "== import RIR data"; $(DEMO_ENV) $(BIN)/csirtnet import-rir $(SHARED)/data/rir
	@echo "== demo users"; $(DEMO_ENV) $(BIN)/csirtnet create-demo-users
	@echo "== ingest Shadowserver samples"; $(DEMO_ENV) $(BIN)/csirtnet ingest \
		--source shadowserver $(SHARED)/data/samples/shadowserver/*.csv
	@echo "== ingest abuse.ch samples"; $(DEMO_ENV) $(BIN)/csirtnet ingest \
		--source abuse.ch $(SHARED)/data/samples/abusech/*.csv
	@echo "== import the OASIS STIX 2.1 examples for CSIRT-CL, TLP:GREEN"; $(DEMO_ENV) $(BIN)/csirtnet \
		import --owner CSIRT-CL --tlp green $(SHARED)/data/samples/stix21/oasis-examples/*.json
	@echo "== deliver digests (written to var/mail/)"; $(DEMO_ENV) $(BIN)/csirtnet worker --batch
	@$(DEMO_ENV) $(BIN)/csirtnet create-demo-users --print
	@echo "== platform signing key (var/gnupg)"; $(DEMO_ENV) $(BIN)/csirtnet create-signing-key
	@echo "== a demo PGP key for CERT.br's contact (secret key in var/demo-gnupg)"
	@if [ ! -s var/demo-certbr.asc ]; then mkdir -p var/demo-gnupg && chmod 700 var/demo-gnupg && \
		gpg --homedir var/demo-gnupg --batch --quiet --pinentry-mode loopback --passphrase '' \
			--quick-gen-key 'CERT.br demo <certbr-demo@csirtnet.example>' future-default default never && \
		gpg --homedir var/demo-gnupg --armor --export > var/demo-certbr.asc && \
		gpgconf --homedir var/demo-gnupg --kill all; fi
	@$(DEMO_ENV) $(BIN)/csirtnet set-contact-key CERT.br var/demo-certbr.asc
	@gpg --homedir var/gnupg --armor --export | gpg --homedir var/demo-gnupg --batch --quiet --import
	@echo "== serving http://$(HOST):$(PORT)/ with a worker for e-mail (Ctrl-C stops both)"
	@$(DEMO_ENV) $(BIN)/csirtnet worker -v0 & worker=$$!; trap "kill $$worker 2>/dev/null" EXIT; \
		$(DEMO_ENV) $(BIN)/csirtnet runserver --insecure $(HOST):$(PORT)

# Run any csirtnet command against the demo database: make cli ARGS="route 200.7.84.1"
cli: venv
	@$(DEMO_ENV) $(BIN)/csirtnet $(ARGS)

# The two databases run side by side (each in its own var folder); each one's output is
# printed whole when it ends.
test: venv system-deps messages
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-sqlite:
	$(TEST_ENV) CSIRTNET_VAR_DIR=$(CURDIR)/var/test-sqlite CSIRTNET_DB_ENGINE=sqlite \
		$(BIN)/pytest -q $(PYTEST_ARGS)

test-postgres:
	$(TEST_ENV) CSIRTNET_VAR_DIR=$(CURDIR)/var/test-postgres CSIRTNET_DB_ENGINE=postgresql \
		CSIRTNET_DB_NAME=$(PG_TEST_DB) $(BIN)/pytest -q $(PYTEST_ARGS)

# Hostile input, for long: every fuzz target FUZZ_SECONDS each (corpus and crashes in
# var/fuzz/<target>/; FUZZ_TARGETS="fuzz/fuzz_stix.py" narrows), then Schemathesis with
# FUZZ_EXAMPLES examples per API operation and role. `make test` runs both briefly.
FUZZ_SECONDS ?= 600
FUZZ_EXAMPLES ?= 200
FUZZ_TARGETS ?= $(wildcard fuzz/fuzz_*.py)
fuzz: venv
	@for target in $(FUZZ_TARGETS); do echo "== $$target, $(FUZZ_SECONDS) s"; \
		$(TEST_ENV) CSIRTNET_VAR_DIR=$(CURDIR)/var $(BIN)/python $$target \
			-max_total_time=$(FUZZ_SECONDS) -timeout=60 -print_final_stats=1 || exit 1; done
	$(TEST_ENV) CSIRTNET_DB_ENGINE=sqlite CSIRTNET_SCHEMATHESIS_EXAMPLES=$(FUZZ_EXAMPLES) \
		$(BIN)/pytest -q tests/api/test_schemathesis.py

# Crash safety, for long: SOAK_KILLS SIGKILLs of the real commands (ingest, worker, set-up)
# on each database (200 in all); `make test` runs 10 on each. SOAK_SEED=N repeats the choices.
SOAK_KILLS ?= 100
soak: venv
	$(TEST_ENV) CSIRTNET_DB_ENGINE=sqlite SOAK_KILLS=$(SOAK_KILLS) $(BIN)/pytest -q -rP -m soak tests/soak
	$(TEST_ENV) CSIRTNET_DB_ENGINE=postgresql CSIRTNET_DB_NAME=$(PG_TEST_DB) SOAK_KILLS=$(SOAK_KILLS) \
		$(BIN)/pytest -q -rP -m soak tests/soak

lint: venv
	mkdir -p var/test
	$(BIN)/ruff check src tests bench fuzz
	$(BIN)/ruff format --check src tests bench fuzz
	$(TEST_ENV) $(BIN)/mypy src
	$(BIN)/lint-imports
	$(TEST_ENV) $(BIN)/python -m django makemigrations --check --dry-run --settings=csirtnet.settings
	$(TEST_ENV) $(BIN)/csirtnet export-openapi --check

bench: venv
	$(BIN)/python bench/run.py

clean:
	rm -rf var .venv .venv-tools .venv-bench

# Backend Roadmap. `make` (or `make help`) lists the targets.
# Everything runs through uv in one workspace virtual environment (.venv).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

STAGE ?= stage1-http-server
# Use the Python you have (3.11+); never download one.
export UV_PYTHON_DOWNLOADS ?= never

# uv from PATH, or installed with pip into .tools/ the first time it is needed.
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
PYTHON ?= python3

STAGES := $(sort $(wildcard stage*-*/))
STAGES := $(STAGES:/=)
# A stage's distribution name (for `uv run --package`) and its import package (src/<pkg>).
# A stage split into services has one package per service: SERVICE= picks one (run,
# migrate, seed, worker); without it, the first in alphabetical order.
package_name = $(shell sed -n 's/^name = "\(.*\)"/\1/p' $(1)/pyproject.toml | head -n1)
packages_of = $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard $(1)/src/*/__init__.py)))))
import_name = $(or $(SERVICE),$(firstword $(call packages_of,$(1))))
# A recipe line for run and migrate: in a stage split into services, a SERVICE that is none
# of them stops with the list, and without SERVICE the one chosen is named, with the others.
check_service = $(if $(word 2,$(call packages_of,$(STAGE))),$(if $(SERVICE),\
	$(if $(filter $(SERVICE),$(call packages_of,$(STAGE))),,\
		@echo "SERVICE must be one of: $(call packages_of,$(STAGE))" >&2; exit 2),\
	@echo "$(STAGE) is split into services ($(call packages_of,$(STAGE))):\
 $(call import_name,$(STAGE)), the first; another with SERVICE=<service>"))

.PHONY: help
help: ## List the targets
	@echo "Backend Roadmap. Usage: make <target> [STAGE=<folder>]"
	@echo
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'
	@echo "  test-stageN      Run one stage group's suites (N = 1 to 4)"
	@echo
	@echo "Variables (make <target> NAME=value):"
	@echo "  STAGE            the stage folder for run, migrate, seed, worker, reconcile, fork, exercise (default $(STAGE)), simulate (default stage4-ride-sharing)"
	@echo "  SERVICE          run, migrate, worker: the service of a stage split into services (stage3-microservices: catalog, orders, notifications; stage4-fintech: audit, ledger, payments); without it, the first"
	@echo "  PORT             run: listen on this port instead of 8000"
	@echo "  RELOAD=1         run: restart the server when a file changes"
	@echo "  SINCE, UNTIL     reconcile: the period, YYYY-MM-DD (UNTIL excluded; default now)"
	@echo "  FROM             diff: the stage to compare from"
	@echo "  TO               diff: the stage to compare with"
	@echo "  COVERAGE=1       test: measure coverage too, and fail a suite below its floor"
	@echo "  FULL=1           diff: every file, not only those in the same role"
	@echo "  DEST             fork: the folder of the new project"
	@echo "  N                exercise: the exercise number (1 to 3)"
	@echo "  SIM_SECONDS      simulate: how long the run lasts (30); also SIM_DRIVERS, SIM_RIDERS, SIM_DECLINE, SIM_URL"
	@echo
	@echo "Stages: $(STAGES)"

$(CURDIR)/.tools/bin/uv:
	@echo "uv not found; installing it into .tools/ with pip"
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

.venv/.installed: uv.lock pyproject.toml $(wildcard */pyproject.toml) | $(UV)
	$(UV) sync --locked --all-packages
	@touch $@

.PHONY: install
install: .venv/.installed ## Install every stage and the dev tools into .venv

# `uv run` inside a stage folder, with that stage's package: $(call in_stage,<command>)
in_stage = cd $(STAGE) && $(UV) run --locked --package $(call package_name,$(STAGE)) $(1)
# Each command first checks what it needs (valid settings, services that answer) and stops
# with one line saying what is missing and how to provide it (roadmap_shared.preflight).
upgrade_database = $(call in_stage,python -m roadmap_shared.upgrade_database $(call import_name,$(STAGE)))
preflight = $(call in_stage,python -m roadmap_shared.preflight $(call import_name,$(STAGE)))

.PHONY: run
run: install ## Run a stage's API: make run [STAGE=...] [SERVICE=...] [PORT=8001] [RELOAD=1]
	$(check_service)
	@if [ -f $(STAGE)/alembic.ini ] || [ -f $(STAGE)/src/$(call import_name,$(STAGE))/alembic.ini ]; \
		then $(upgrade_database); fi
	$(call in_stage,python -m $(call import_name,$(STAGE)) \
		$(if $(PORT),--port $(PORT)) $(if $(filter-out 0,$(RELOAD)),--reload))

.PHONY: migrate
migrate: install ## Create the stage's database if missing and upgrade it to head
	$(check_service)
	$(upgrade_database)

.PHONY: seed
seed: migrate ## Fill the stage's database with realistic demo data
	@$(preflight)
	$(call in_stage,python -m $(call import_name,$(STAGE)).seed)

.PHONY: worker
worker: migrate ## Run the stage's background job worker
	@$(preflight)
	$(call in_stage,python -m $(call import_name,$(STAGE)).worker)

# make simulate: drivers and riders over real sockets and HTTP, against the stage's API
# (started here with a dispatcher, or SIM_URL). SIM_SECONDS, SIM_DRIVERS, SIM_RIDERS and
# SIM_DECLINE shape the run.
.PHONY: simulate has-simulator
simulate: STAGE = stage4-ride-sharing
simulate: has-simulator $(if $(SIM_URL),install,migrate) ## Drivers and riders against stage4-ride-sharing, live figures [SIM_SECONDS=30]
	@$(if $(SIM_URL),,$(preflight))
	$(call in_stage,python -m $(call import_name,$(STAGE)).simulate)

has-simulator:
	@test -f $(STAGE)/src/$(call import_name,$(STAGE))/simulate.py || { \
		echo "$(STAGE) has no simulator: try STAGE=stage4-ride-sharing"; exit 2; }

.PHONY: reconcile
reconcile: migrate ## Compare Stripe's ledger with the stage's: make reconcile STAGE=stage3-payments SINCE=2026-12-01
	@test -n "$(SINCE)" || { echo "usage: make reconcile STAGE=<stage> SINCE=YYYY-MM-DD [UNTIL=YYYY-MM-DD]"; exit 2; }
	@$(preflight)
	$(call in_stage,python -m $(call import_name,$(STAGE)).reconcile --since $(SINCE) $(if $(UNTIL),--until $(UNTIL)))

# make verify-audit: walks stage4-fintech's audit chain and recomputes every hash; exit 0
# with its head, or non-zero naming the first broken record (see that stage's README).
.PHONY: verify-audit
verify-audit: STAGE = stage4-fintech
verify-audit: SERVICE = audit
verify-audit: install ## Check stage4-fintech's hash-chained audit log, record by record
	$(call in_stage,python -m audit verify)

# make up / make down, for people with Docker: the stage's containers (every compose service
# named after it: a split stage's services, its workers, gateway and tracing) and what they
# depend on, built and started, then waited on until their health checks pass.
compose_services = $(shell docker compose config --services | grep -E '^$(STAGE)(-|$$)')

.PHONY: up down
up: ## Start a stage and what it needs in Docker: make up STAGE=stage3-microservices
	docker compose up --build --detach --wait $(compose_services)

down: ## Stop and remove the containers make up started (the volumes stay)
	docker compose down

.PHONY: test
test: install ## Run every suite, each in its own process, and print a summary table [COVERAGE=1]
	UV=$(UV) $(UV) run --locked python scripts/run_suites.py $(if $(filter 1,$(COVERAGE)),--coverage) \
		shared $(STAGES) tests

.PHONY: test-shared
test-shared: install ## Run the shared library's and the harness's tests
	UV=$(UV) $(UV) run --locked python scripts/run_suites.py shared

# test-stage1 ... test-stage4: one stage group's suites (a group with no folders yet passes).
.PHONY: test-stage1 test-stage2 test-stage3 test-stage4
test-stage1 test-stage2 test-stage3 test-stage4: install
	UV=$(UV) $(UV) run --locked python scripts/run_suites.py --group $(@:test-%=%) \
		$(filter $(@:test-%=%)-%,$(STAGES))

.PHONY: lint
lint: install ## ruff, mypy strict, the compose file's schema and hadolint on the Dockerfiles
	@echo "lint: ruff check"
	@$(UV) run --locked ruff check .
	@echo "lint: ruff format --check"
	@$(UV) run --locked ruff format --check .
	@# One mypy run per member: each has its own `tests` package.
	@for member in shared $(STAGES) .; do \
		echo "lint: mypy $$member"; \
		(cd $$member && $(UV) run --locked mypy $$( [ $$member = . ] && echo tests scripts || \
			ls -d src tests benchmarks 2>/dev/null )); \
	done
	@echo "lint: docker-compose.yml against the compose specification"
	@$(UV) run --locked check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	@echo "lint: the GitHub workflow and Dependabot config against their schemas"
	@$(UV) run --locked check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	@$(UV) run --locked check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	@for dockerfile in $(wildcard stage*-*/Dockerfile stage*-*/*.Dockerfile); do \
		echo "lint: hadolint $$dockerfile"; \
		$(UV) run --locked hadolint $$dockerfile; \
	done

.PHONY: coverage
coverage: install ## Every suite with coverage: HTML in .test-results/coverage/, floors enforced
	$(MAKE) test COVERAGE=1
	@echo "HTML reports: .test-results/coverage/<suite>/index.html"

# make fuzz: schemathesis (every check) against every stage's OpenAPI document, on real
# servers, anonymous and signed in. Minutes, so not part of `make test`. FUZZ_STAGES= picks
# stages; FUZZ_MAX_EXAMPLES and FUZZ_MAX_SECONDS bound each run, FUZZ_SEED picks its cases.
.PHONY: fuzz
fuzz: install ## Fuzz every stage's API from its OpenAPI document (schemathesis)
	UV=$(UV) $(UV) run --locked python scripts/fuzz.py $(FUZZ_STAGES)

.PHONY: bench
bench: install ## Benchmarks for every stage that has them (ratios against a baseline)
	@for stage in $(STAGES); do \
		if [ -f $$stage/benchmarks/bench.py ]; then \
			(cd $$stage && $(UV) run --locked --package $$(sed -n 's/^name = "\(.*\)"/\1/p' pyproject.toml | head -n1) \
				python benchmarks/bench.py); \
		fi; \
	done

.PHONY: diff
diff: install ## What a stage adds, role by role: make diff FROM=stage2-auth TO=stage3-blog [FULL=1]
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "usage: make diff FROM=<stage> TO=<stage> [FULL=1]"; exit 2; }
	@$(UV) run --locked python -m scripts.diff_stages $(FROM) $(TO) $(if $(FULL),--full)

.PHONY: fork
fork: install ## Copy a stage out as your own project: make fork STAGE=stage3-blog DEST=../blog
	@test -n "$(DEST)" || { echo "usage: make fork STAGE=<stage> DEST=<new folder>"; exit 2; }
	UV=$(UV) $(UV) run --locked python -m scripts.fork $(STAGE) $(DEST)

.PHONY: exercise
exercise: install ## Check a graded exercise: make exercise STAGE=stage1-http-server N=1
	@test -d $(STAGE)/tests/exercises || { echo "$(STAGE) has no graded exercises yet"; exit 2; }
	cd $(STAGE) && $(UV) run --locked --package $(call package_name,$(STAGE)) \
		python -m pytest -m exercise tests/exercises/$(if $(N),test_exercise_$(N).py)

.PHONY: clean
clean: ## Remove caches, test results and the virtual environments
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -rf .venv .tools .test-results .pytest_cache .mypy_cache .ruff_cache
	find . -mindepth 2 \( -name .pytest_cache -o -name .mypy_cache \) -type d -prune -exec rm -rf {} +

# --- mutation testing -------------------------------------------------------------------
# cosmic-ray changes one thing at a time in a module (`<` to `<=`, `True` to `False`, a
# number, an operator...) and runs that module's tests: a change no test notices (a
# surviving mutant) is behaviour nothing checks. Configs in mutation/; sessions (and every
# mutant's result: `cr-report --show-diff <session>`) in .test-results/mutation/.
# Takes several minutes, so not part of `make test`. Modules are edited in place while it
# runs (each change is undone after its run): do not edit them meanwhile.
MUTATION_RESULTS := $(CURDIR)/.test-results/mutation
MUTATION_TARGETS := shared:shared stage2-ecommerce:shop

.PHONY: mutate
mutate: install ## Mutation testing: cache, rate limiter, idempotency (killed / total)
	@mkdir -p $(MUTATION_RESULTS)
	@for target in $(MUTATION_TARGETS); do \
		member=$${target%%:*}; name=$${target##*:}; session=$(MUTATION_RESULTS)/$$name.sqlite; \
		rm -f $$session; \
		(cd $$member && $(UV) run --locked cosmic-ray init ../mutation/$$name.toml $$session \
			&& $(UV) run --locked cosmic-ray exec ../mutation/$$name.toml $$session); \
		echo "== $$name: surviving mutants"; \
		$(UV) run --locked cr-report --surviving-only --show-diff $$session; \
	done

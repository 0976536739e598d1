"""The files `make fork` writes that a stage folder does not have: Makefile, README, CI."""

from pathlib import Path

MAKEFILE = """\
# {dist}: forked from Backend Roadmap's {stage}. `make` (or `make help`) lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory
# Use the Python you have (3.11+); never download one.
export UV_PYTHON_DOWNLOADS ?= never

# uv from PATH, or installed with pip into .tools/ the first time it is needed.
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
PYTHON ?= python3
{service_variables}
.PHONY: help
help: ## List the targets
\t@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | \\
\t\tawk 'BEGIN {{FS = ":.*?## "}}; {{printf "  %-10s %s\\n", $$1, $$2}}'
\t@echo
\t@echo "Variables (make <target> NAME=value):"
{service_help}\t@echo "  PORT       run: listen on this port instead of 8000"
\t@echo "  RELOAD=1   run: restart the server when a file changes"
\t@echo "  N          exercise: the exercise number (1 to 3)"

$(CURDIR)/.tools/bin/uv:
\t@echo "uv not found; installing it into .tools/ with pip"
\t$(PYTHON) -m venv .tools
\t.tools/bin/pip install --quiet uv

.venv/.installed: uv.lock pyproject.toml shared/pyproject.toml | $(UV)
\t$(UV) sync --locked --all-packages
\t@touch $@

.PHONY: install
install: .venv/.installed ## Install the project and its dev tools into .venv

.PHONY: run
run: {run_prerequisite} ## Run the API on http://127.0.0.1:8000 [PORT=8001] [RELOAD=1]{service}
\t$(UV) run --locked python -m {package} \\
\t\t$(if $(PORT),--port $(PORT)) $(if $(filter-out 0,$(RELOAD)),--reload)

.PHONY: migrate
migrate: install ## Create the database if missing and upgrade it to the latest migration{service}
{migrate_recipe}
{extra_targets}
.PHONY: test
test: install ## Run the test suite against real services (see README)
\t$(UV) run --locked python -m pytest $(PYTEST_ARGS)

.PHONY: exercise
exercise: install ## Check a graded exercise: make exercise N=1 (all of them without N)
\t@test -d tests/exercises || {{ echo "this project has no graded exercises yet"; exit 2; }}
\t$(UV) run --locked python -m pytest -m exercise \\
\t\ttests/exercises/$(if $(N),test_exercise_$(N).py) $(PYTEST_ARGS)

.PHONY: lint
lint: install ## ruff (lint and format check) and mypy strict on all code
\t$(UV) run --locked ruff check .
\t$(UV) run --locked ruff format --check .
\t$(UV) run --locked mypy {mypy_targets}
"""

# A stage split into services: SERVICE= picks the package, as in the monorepo's Makefile.
SERVICES = """
# The services, one package each (src/<service>, with its own database and migrations):
# SERVICE= picks the one run and migrate work on.
SERVICES := {packages}
SERVICE ?= {first}
$(if $(filter $(SERVICE),$(SERVICES)),,$(error SERVICE must be one of: $(SERVICES)))
"""
SERVICE_HELP = '\t@echo "  SERVICE    run, migrate: the service ({packages}; default {first})"\n'
# A command only one service has (the notifications worker) works on that one by default.
ONE_SERVICE_TARGET = """
# Only {package} has a {module}: it is the service here (and the one migrate upgrades).
{module}: SERVICE = {package}"""

MIGRATE = "\t$(UV) run --locked python -m roadmap_shared.upgrade_database {package}"
NO_DATABASE = '\t@echo "this project has no database: nothing to migrate"'
# Each checks what it needs first and stops with one line if a service is missing.
SEED = """
.PHONY: seed
seed: migrate ## Fill the database with realistic demo data
\t@$(UV) run --locked python -m roadmap_shared.preflight {package}
\t$(UV) run --locked python -m {package}.seed
"""
WORKER = """
.PHONY: worker
worker: migrate ## Run the background job worker
\t@$(UV) run --locked python -m roadmap_shared.preflight {package}
\t$(UV) run --locked python -m {package}.worker
"""
SIMULATE = """
.PHONY: simulate
simulate: migrate ## Simulated drivers and riders against the API, live figures [SIM_SECONDS=30]
\t@$(UV) run --locked python -m roadmap_shared.preflight {package}
\t$(UV) run --locked python -m {package}.simulate
"""

README = """\
# {dist}

Your own project, forked from [Backend Roadmap](https://github.com/) stage `{stage}`: the
stage's code, the part of its shared library it uses (in `shared/`, a uv workspace
member, so it is always this folder and never a package of the same name from an index),
its tests, and everything to run, check and ship it. It is yours: rename it, change it,
publish it (MIT licence, see `LICENSE`).

## Two commands

You need Python 3.11+, git and make; the Makefile installs uv if you do not have it.

```bash
make run     # the API on http://127.0.0.1:8000 (docs at /docs)
make test    # the test suite, against real services
```

{services}`make lint` runs ruff and mypy in strict mode, `make migrate` upgrades the database,
`make exercise N=1` checks the first graded exercise (see below), and
`docker compose up --build` runs the API in a container with the services it needs. The
tests find PostgreSQL, Redis and RabbitMQ through `TEST_POSTGRES_URL`, `TEST_REDIS_URL`
and `TEST_RABBITMQ_URL`, or start containers themselves if Docker is running.

What follows is the stage's own README from the roadmap.

---

"""


def makefile(stage: Path, packages: list[str]) -> str:
    """The fork's Makefile. For a stage split into services the commands name `$(SERVICE)`
    instead of the one package, and SERVICES/SERVICE are defined at the top."""
    split = len(packages) > 1
    package = "$(SERVICE)" if split else packages[0]
    has_database = any(alembic_ini(stage, name).exists() for name in packages)
    targets = " ".join(
        target for target in ("src", "tests", "benchmarks") if (stage / target).is_dir()
    )
    extra_targets = ""
    for module, template in (("seed", SEED), ("worker", WORKER), ("simulate", SIMULATE)):
        having = [name for name in packages if (stage / "src" / name / f"{module}.py").exists()]
        if split and len(having) == 1:
            extra_targets += ONE_SERVICE_TARGET.format(module=module, package=having[0])
        if having:
            extra_targets += template.format(package=package)
    facts = {"packages": " ".join(packages), "first": packages[0]}
    return MAKEFILE.format(
        dist=stage.name,
        stage=stage.name,
        package=package,
        service_variables=SERVICES.format(**facts) if split else "",
        service_help=SERVICE_HELP.format(**facts) if split else "",
        service=" [SERVICE=...]" if split else "",
        run_prerequisite="migrate" if has_database else "install",
        migrate_recipe=MIGRATE.format(package=package) if has_database else NO_DATABASE,
        mypy_targets=f"{targets} shared/src",
        extra_targets=extra_targets,
    )


def alembic_ini(stage: Path, package: str) -> Path:
    """`<stage>/alembic.ini`, or `src/<service>/alembic.ini` in a stage split into services."""
    inside = stage / "src" / package / "alembic.ini"
    return inside if inside.exists() else stage / "alembic.ini"


SERVICES_README = """\
The project is split into services, one package each in `src/` ({packages}), each with
its own database, migrations (`src/<service>/migrations`) and image
(`<service>.Dockerfile`). `make run` and `make migrate` work on one of them:
`make run SERVICE={last}` (without SERVICE, {first}). `docker compose up --build` runs
them all, with the gateway in front on http://127.0.0.1:8000.

"""


def readme(stage: Path, stage_readme: str, packages: list[str]) -> str:
    services = ""
    if len(packages) > 1:
        services = SERVICES_README.format(
            packages=", ".join(packages), first=packages[0], last=packages[-1]
        )
    return README.format(dist=stage.name, stage=stage.name, services=services) + stage_readme


def github_workflow(monorepo_workflow: Path) -> str:
    """The monorepo's workflow runs `make lint` and `make test`, as the fork's Makefile does."""
    return monorepo_workflow.read_text().replace(
        "# For forks on GitHub: the same steps as .ci/run, with the services as containers.",
        "# make lint and make test on every push, with the services as containers.",
    )

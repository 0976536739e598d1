"""`make fork` turns a stage into a standalone project: its own lock, tools, Makefile,
container files, CI, licence and git history, and its own `make test` and `make lint` pass
against the same services the monorepo's suites use (TEST_*_URL); test_exercises.py runs
those two in the fork, once per group of exercise solutions. A stage split into services
forks too: each service's Dockerfile, its compose service and its migrations."""

import re
import shutil
import tomllib
import zipfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from roadmap_shared.testing.databases import (
    create_database,
    drop_database,
    run_outside_event_loop,
)
from roadmap_shared.testing.services import POSTGRES
from scripts.fork import dockerfiles, lock, services_needed
from tests.forks import UV, fork, run
from tests.stages import ROOT, alembic_ini, import_packages, is_split


def test_the_fork_has_everything_a_project_needs(forked: tuple[Path, Path]) -> None:
    stage, project = forked
    for required in [
        "LICENSE",
        "README.md",
        "Makefile",
        *(source.name for source in dockerfiles(stage)),  # one per service in a split stage
        "docker-compose.yml",
        "pyproject.toml",
        "uv.lock",
        ".gitignore",
        ".github/workflows/ci.yml",
        "shared/pyproject.toml",
        "shared/src/roadmap_shared/__init__.py",
    ]:
        assert (project / required).is_file(), required
    assert "MIT License" in (project / "LICENSE").read_text()
    readme = (project / "README.md").read_text()
    assert "make run" in readme
    assert "make test" in readme
    makefile = (project / "Makefile").read_text()
    for target in ["run", "test", "lint", "migrate", "exercise"]:
        assert f"\n{target}:" in makefile, target
    tools = tomllib.loads((project / "pyproject.toml").read_text())
    assert {"pytest", "ruff", "mypy"} <= {
        d.split(">")[0] for d in tools["dependency-groups"]["dev"]
    }
    assert tools["tool"]["mypy"]["strict"] is True
    first_party = tools["tool"]["ruff"]["lint"]["isort"]["known-first-party"]
    assert set(import_packages(stage)) <= set(first_party)


def test_the_fork_makefile_runs_every_command_the_stage_has(forked: tuple[Path, Path]) -> None:
    stage, project = forked
    packages = import_packages(stage)
    for package in packages:
        # A split stage's commands take the service, as the monorepo's Makefile does.
        service = [f"SERVICE={package}"] if is_split(stage) else []
        dry_run = run(["make", "-n", "run", "PORT=8123", "RELOAD=1", *service], project).stdout
        assert f"python -m {package} \\\n\t--port 8123 --reload" in dry_run
        if alembic_ini(stage, package).exists():
            assert f"upgrade_database {package}\n" in dry_run
    assert "--reload" not in run(["make", "-n", "run", "RELOAD=0"], project).stdout
    for module in ["seed", "worker", "simulate"]:
        having = [p for p in packages if (stage / "src" / p / f"{module}.py").exists()]
        assert (f"\n{module}:" in (project / "Makefile").read_text()) == bool(having), module
        if having:
            commands = run(["make", "-n", module], project).stdout
            assert f"roadmap_shared.preflight {having[0]}" in commands
            assert f"python -m {having[0]}.{module}" in commands


def test_a_split_fork_refuses_a_service_it_does_not_have(forked: tuple[Path, Path]) -> None:
    stage, project = forked
    if not is_split(stage):
        pytest.skip("a stage of one package takes no SERVICE")
    refused = run(["make", "-n", "migrate", "SERVICE=no_such_service"], project, check=False)
    assert refused.returncode != 0
    assert f"SERVICE must be one of: {' '.join(import_packages(stage))}" in refused.stderr


def test_the_fork_is_one_commit_with_nothing_left_out(forked: tuple[Path, Path]) -> None:
    _, project = forked

    def git(*arguments: str) -> str:
        return run(["git", *arguments], project).stdout

    assert len(git("log", "--oneline").splitlines()) == 1
    assert git("status", "--porcelain") == ""
    assert "uv.lock" in git("ls-files").split()


def monorepo_compose_services(stage: Path) -> set[str]:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return {name for name in services if name == stage.name or name.startswith(f"{stage.name}-")}


def test_the_container_files_build_from_the_fork_root(forked: tuple[Path, Path]) -> None:
    """What `docker compose up --build` in the fork reads: every Dockerfile a service builds
    from, every file those copy and every file a service mounts exist in the fork."""
    stage, project = forked
    compose = yaml.safe_load((project / "docker-compose.yml").read_text())
    services = compose["services"]
    assert monorepo_compose_services(stage) <= set(services)
    builds = [s["build"] for s in services.values() if "build" in s]
    assert builds
    for build in builds:
        assert build["context"] == "."
        dockerfile = (project / build["dockerfile"]).read_text()
        assert f"{stage.name}/" not in dockerfile
        for line in dockerfile.splitlines():
            words = line.split()
            if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
                assert (project / words[1]).exists(), line
    for name, service in services.items():
        # A service from an image (a load balancer) is not built from the stage's Dockerfile.
        assert not ("image" in service and "build" in service), service
        assert "profiles" not in service, name  # `docker compose up` starts what it needs
        assert set(service.get("depends_on", {})) <= set(services), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert not source.startswith(".") or (project / source).exists(), volume


def test_a_server_the_stage_reaches_by_host_name_is_in_its_compose_file() -> None:
    """A service that names a server only in its settings (a broker URL), without waiting
    for it in depends_on, still finds it in the fork's compose file."""
    monorepo: dict[str, Any] = {
        "postgres": {},
        "rabbitmq": {},
        "redis": {},
        "shop-notifications": {},
    }
    own = {
        "shop-notifications": {
            "environment": {"NOTIFICATIONS_RABBITMQ_URL": "amqp://guest:guest@rabbitmq:5672/"},
            "depends_on": {"postgres": {"condition": "service_healthy"}},
        }
    }
    assert services_needed(own, monorepo) == {"postgres", "rabbitmq"}


def test_the_gateway_of_a_split_fork_reaches_services_of_its_compose_file(
    forked: tuple[Path, Path],
) -> None:
    stage, project = forked
    configs = sorted(project.glob("*/nginx.conf")) + sorted(project.glob("nginx.conf"))
    if not configs:
        pytest.skip(f"{stage.name} has no load balancer")
    services = yaml.safe_load((project / "docker-compose.yml").read_text())["services"]
    for config in configs:
        upstreams = re.findall(r"^\s*server ([\w-]+):\d+;", config.read_text(), re.MULTILINE)
        assert upstreams
        assert set(upstreams) <= set(services), config


def locked_versions(lock: Path) -> dict[str, str]:
    packages = tomllib.loads(lock.read_text())["package"]
    return {p["name"]: p["version"] for p in packages if "registry" in p.get("source", {})}


def test_the_fork_is_pinned_to_the_monorepo_versions(forked: tuple[Path, Path]) -> None:
    _, project = forked
    monorepo = locked_versions(ROOT / "uv.lock")
    fork_versions = locked_versions(project / "uv.lock")
    assert fork_versions
    assert {
        name: version for name, version in fork_versions.items() if monorepo.get(name) != version
    } == {}


def stranger_wheel(folder: Path) -> Path:
    """A `roadmap-shared` 99.0 such as anyone could publish on an index."""
    wheel = folder / "roadmap_shared-99.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("roadmap_shared/__init__.py", "raise ImportError('a stranger')\n")
        info = "roadmap_shared-99.0.0.dist-info"
        archive.writestr(
            f"{info}/METADATA", "Metadata-Version: 2.1\nName: roadmap-shared\nVersion: 99.0.0\n"
        )
        archive.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        archive.writestr(f"{info}/RECORD", "")
    return wheel


def test_roadmap_shared_never_resolves_to_an_index(
    forked: tuple[Path, Path], tmp_path: Path
) -> None:
    """Even with a newer `roadmap-shared` on offer and an upgrade asked for, the lock keeps
    the fork's own shared/ folder: a workspace source is never looked up in an index."""
    _, project = forked
    offers = tmp_path / "index"
    offers.mkdir()
    stranger_wheel(offers)
    copy = tmp_path / "project"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns(".venv", ".git"))
    run(
        [
            UV,
            "lock",
            "--offline",
            "--find-links",
            str(offers),
            "--upgrade-package",
            "roadmap-shared",
        ],
        copy,
    )
    [shared] = [
        p
        for p in tomllib.loads((copy / "uv.lock").read_text())["package"]
        if p["name"] == "roadmap-shared"
    ]
    assert shared["source"] == {"editable": "shared"}
    assert shared["version"] != "99.0.0"


def revision(database_url: str) -> str:
    async def read() -> str:
        connection = await asyncpg.connect(
            make_url(database_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
        try:
            return str(await connection.fetchval("SELECT version_num FROM alembic_version"))
        finally:
            await connection.close()

    return run_outside_event_loop(read())


def head_revision(stage: Path, package: str) -> str:
    config = Config(str(alembic_ini(stage, package)))
    [head] = ScriptDirectory.from_config(config).get_heads()
    return head


def test_make_migrate_upgrades_each_service_database(
    forked: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make migrate` (with SERVICE= in a split stage) creates the database the settings
    name and upgrades it to the last migration, on the suites' PostgreSQL."""
    stage, project = forked
    packages = [p for p in import_packages(stage) if alembic_ini(stage, p).exists()]
    if not packages:
        pytest.skip(f"{stage.name} has no database")
    with ExitStack() as containers:
        server = POSTGRES.url(containers)
        for package in packages:
            config = (stage / "src" / package / "config.py").read_text()
            [prefix] = re.findall(r'env_prefix="(\w+)"', config)
            database = create_database(server, f"fork_{package}")
            try:
                monkeypatch.setenv(f"{prefix}DATABASE_URL", database)
                service = [f"SERVICE={package}"] if is_split(stage) else []
                migrated = run(["make", "migrate", *service], project, check=False)
                assert migrated.returncode == 0, migrated.stdout + migrated.stderr
                assert revision(database) == head_revision(stage, package)
            finally:
                drop_database(server, database)


def test_a_fork_locks_on_a_machine_whose_uv_cache_holds_no_index_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = fork(ROOT / "stage1-http-server", tmp_path / "project")
    (project / "uv.lock").unlink()
    monkeypatch.setenv("UV", UV)
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "empty-uv-cache"))
    lock(project)
    assert 'name = "books-api"' in (project / "uv.lock").read_text()

"""`make fork` turns a stage into a standalone project: its own lock, tools, Makefile,
container files, CI, licence and git history, and its own `make test` and `make lint` pass
against the same services the monorepo's suites use (TEST_*_URL)."""

import shutil
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from scripts.fork import lock
from tests.forks import UV, fork, run
from tests.stages import ROOT, STAGES, is_split

FORKABLE = [stage for stage in STAGES if not is_split(stage)]


def test_a_stage_split_into_services_is_refused_in_one_line() -> None:
    """`make fork` copies out stages of one package; a split stage is refused, saying so."""
    for stage in STAGES:
        if is_split(stage):
            command = [UV, "run", "--locked", "python", "-m", "scripts.fork", stage.name, "x"]
            refused = run(command, ROOT, check=False)
            assert refused.returncode == 2
            assert "is split into services" in refused.stderr


@pytest.fixture(scope="module", params=FORKABLE, ids=[stage.name for stage in FORKABLE])
def forked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    stage: Path = request.param
    return stage, fork(stage, tmp_path_factory.mktemp("fork") / stage.name)


def test_the_fork_has_everything_a_project_needs(forked: tuple[Path, Path]) -> None:
    _, project = forked
    for required in [
        "LICENSE",
        "README.md",
        "Makefile",
        "Dockerfile",
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
    assert "ruff" in tools["tool"]


def test_the_fork_makefile_runs_every_command_the_stage_has(forked: tuple[Path, Path]) -> None:
    stage, project = forked
    package = next((stage / "src").glob("*/__init__.py")).parent.name
    dry_run = run(["make", "-n", "run", "PORT=8123", "RELOAD=1"], project).stdout
    assert f"python -m {package} \\\n\t--port 8123 --reload" in dry_run
    assert "--reload" not in run(["make", "-n", "run", "RELOAD=0"], project).stdout
    for module in ["seed", "worker", "simulate"]:
        has_module = (stage / "src" / package / f"{module}.py").exists()
        assert (f"\n{module}:" in (project / "Makefile").read_text()) == has_module, module
        if has_module:
            commands = run(["make", "-n", module], project).stdout
            assert f"roadmap_shared.preflight {package}" in commands
            assert f"python -m {package}.{module}" in commands


def test_the_fork_is_one_commit_with_nothing_left_out(forked: tuple[Path, Path]) -> None:
    _, project = forked

    def git(*arguments: str) -> str:
        return run(["git", *arguments], project).stdout

    assert len(git("log", "--oneline").splitlines()) == 1
    assert git("status", "--porcelain") == ""
    assert "uv.lock" in git("ls-files").split()


def test_the_container_files_build_from_the_fork_root(forked: tuple[Path, Path]) -> None:
    stage, project = forked
    dockerfile = (project / "Dockerfile").read_text()
    assert f"{stage.name}/" not in dockerfile
    for line in dockerfile.splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
            assert (project / words[1]).exists(), line
    compose = yaml.safe_load((project / "docker-compose.yml").read_text())
    builds = [s["build"] for s in compose["services"].values() if "build" in s]
    assert builds
    assert all(build == {"context": ".", "dockerfile": "Dockerfile"} for build in builds)
    for service in compose["services"].values():
        # A service from an image (a load balancer) is not built from the stage's Dockerfile.
        assert not ("image" in service and "build" in service), service
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert not source.startswith(".") or (project / source).exists(), volume


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


def test_the_fork_passes_its_own_make_test_and_make_lint(forked: tuple[Path, Path]) -> None:
    _, project = forked
    for target in ["test", "lint"]:
        result = run(["make", target], project, check=False)
        assert result.returncode == 0, (
            f"make {target}\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )


def test_a_fork_locks_on_a_machine_whose_uv_cache_holds_no_index_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = fork(ROOT / "stage1-http-server", tmp_path / "project")
    (project / "uv.lock").unlink()
    monkeypatch.setenv("UV", UV)
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "empty-uv-cache"))
    lock(project)
    assert 'name = "books-api"' in (project / "uv.lock").read_text()

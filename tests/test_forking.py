"""A learner forks one stage as the start of their own project, so a stage depends on
shared/ and third-party packages only, never on another stage."""

import re
import tomllib
from pathlib import Path

import pytest

from tests.stages import (
    PACKAGE_IDS,
    PACKAGES,
    ROOT,
    STAGES,
    alembic_ini,
    dockerfile,
    import_packages,
)

STAGE_IDS = [stage.name for stage in STAGES]
ALL_PACKAGES = {package for _, package in PACKAGES}
OTHER_PACKAGES = {stage.name: ALL_PACKAGES - set(import_packages(stage)) for stage in STAGES}


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_a_stage_never_imports_another_stage(stage: Path) -> None:
    others = "|".join(OTHER_PACKAGES[stage.name])
    importing = re.compile(rf"^\s*(?:from|import) ({others})\b", re.MULTILINE)
    for source in stage.rglob("*.py"):
        if ".venv" not in source.parts:
            assert not importing.search(source.read_text()), source


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_a_stage_depends_only_on_shared_and_published_packages(stage: Path) -> None:
    project = tomllib.loads((stage / "pyproject.toml").read_text())["project"]
    members = {tomllib.loads((s / "pyproject.toml").read_text())["project"]["name"] for s in STAGES}
    names = {re.split(r"[<>=\[; ]", dependency)[0] for dependency in project["dependencies"]}
    assert "roadmap-shared" in names
    assert not names & members


@pytest.mark.parametrize(("stage", "package"), PACKAGES, ids=PACKAGE_IDS)
def test_a_stage_has_everything_a_project_needs(stage: Path, package: str) -> None:
    for required in ["README.md", "pyproject.toml", ".env.example", "tests"]:
        assert (stage / required).exists(), required
    assert dockerfile(stage, package).exists()
    assert (stage / "src" / package / "__main__.py").is_file()


@pytest.mark.parametrize(("stage", "package"), PACKAGES, ids=PACKAGE_IDS)
def test_migrations_are_found_from_the_installed_package(stage: Path, package: str) -> None:
    if not alembic_ini(stage, package).exists():
        pytest.skip("this stage has no database")
    ini = alembic_ini(stage, package).read_text()
    # `package:path` works in the repository and in the image, where there is no src/.
    assert f"script_location = {package}:migrations" in ini
    versions = stage / "src" / package / "migrations" / "versions"
    assert all(re.match(r"\d{4}_\d{2}_\d{2}_", f.name) for f in versions.glob("*.py"))


def test_every_stage_is_a_workspace_member() -> None:
    workspace = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
    assert set(workspace["members"]) == {"shared", *(stage.name for stage in STAGES)}

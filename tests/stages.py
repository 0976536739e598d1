"""What the repository tests know about the stage folders."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = sorted(path for path in ROOT.glob("stage*-*") if path.is_dir())


def import_packages(stage: Path) -> list[str]:
    """The stage's import packages (src/<package>): one, or one per service."""
    return [init.parent.name for init in sorted((stage / "src").glob("*/__init__.py"))]


def import_package(stage: Path) -> str:
    """The import package of a stage that has one (most); see `PACKAGES` for the others."""
    packages = import_packages(stage)
    if len(packages) != 1:
        raise ValueError(f"{stage.name} has several packages ({', '.join(packages)})")
    return packages[0]


def is_split(stage: Path) -> bool:
    """A stage split into services: one package per service, each with its own app,
    database, migrations and Dockerfile."""
    return len(import_packages(stage)) > 1


# Every (stage, package) pair: what runs as one app. A service of a split stage is
# "stage/package" in test ids.
PACKAGES = [(stage, package) for stage in STAGES for package in import_packages(stage)]
PACKAGE_IDS = [
    f"{stage.name}/{package}" if is_split(stage) else stage.name for stage, package in PACKAGES
]


def dockerfile(stage: Path, package: str) -> Path:
    """`<stage>/Dockerfile`, or `<stage>/<package>.Dockerfile` for a service of a split stage."""
    return stage / f"{package}.Dockerfile" if is_split(stage) else stage / "Dockerfile"


def compose_service(stage: Path, package: str) -> str:
    """The stage's service in docker-compose.yml: its folder name, or `<stage>-<package>`."""
    return f"{stage.name}-{package}" if is_split(stage) else stage.name


def alembic_ini(stage: Path, package: str) -> Path:
    """A split stage keeps one alembic.ini per service, inside its package."""
    return stage / "src" / package / "alembic.ini" if is_split(stage) else stage / "alembic.ini"


def distribution_name(stage: Path) -> str:
    name: str = tomllib.loads((stage / "pyproject.toml").read_text())["project"]["name"]
    return name


def has_database(stage: Path) -> bool:
    return any(alembic_ini(stage, package).exists() for package in import_packages(stage))

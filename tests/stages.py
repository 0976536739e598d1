"""What the repository tests know about the stage folders."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = sorted(path for path in ROOT.glob("stage*-*") if path.is_dir())


def import_package(stage: Path) -> str:
    [init] = sorted((stage / "src").glob("*/__init__.py"))
    return init.parent.name


def distribution_name(stage: Path) -> str:
    name: str = tomllib.loads((stage / "pyproject.toml").read_text())["project"]["name"]
    return name


def has_database(stage: Path) -> bool:
    return (stage / "alembic.ini").exists()

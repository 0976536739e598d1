"""Forking a stage from a test: `make fork` as a learner runs it, with this run's services."""

import os
import subprocess
from pathlib import Path

from tests.stages import ROOT

UV = os.environ.get("UV", "uv")  # `make test` passes the uv it uses


def fork_environment() -> dict[str, str]:
    """The caller's environment (service URLs, uv cache) without the monorepo's venv."""
    environment = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    environment["PYTEST_ADDOPTS"] = f"{os.environ.get('PYTEST_ADDOPTS', '')} -q -p no:cacheprovider"
    return environment


def run(command: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (our own commands, no shell)
        command, cwd=cwd, env=fork_environment(), capture_output=True, text=True, check=check
    )


def fork(stage: Path, destination: Path) -> Path:
    run(
        [UV, "run", "--locked", "python", "-m", "scripts.fork", stage.name, str(destination)],
        ROOT,
    )
    return destination

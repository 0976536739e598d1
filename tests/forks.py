"""Forking a stage from a test: `make fork` as a learner runs it, with this run's services."""

import os
import signal
import subprocess
from pathlib import Path

from tests.stages import ROOT

UV = os.environ.get("UV", "uv")  # `make test` passes the uv it uses

# The longest command a test runs in a fork is a stage's whole suite (about two minutes).
# A command that hangs (a server that never answers) fails its test after this long,
# naming the command, instead of stopping the repository suite.
COMMAND_SECONDS = 900


def fork_environment() -> dict[str, str]:
    """The caller's environment (service URLs, uv cache) without the monorepo's venv."""
    environment = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    environment["PYTEST_ADDOPTS"] = f"{os.environ.get('PYTEST_ADDOPTS', '')} -q -p no:cacheprovider"
    return environment


def run(command: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    # Its own process group, so a timeout stops what `make` started (uv, pytest, servers).
    process = subprocess.Popen(  # noqa: S603  (our own commands, no shell)
        command,
        cwd=cwd,
        env=fork_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=COMMAND_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        raise AssertionError(
            f"{' '.join(command)} (in {cwd}) ran over {COMMAND_SECONDS} s:\n"
            f"{stdout[-3000:]}{stderr[-2000:]}"
        ) from None
    result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    if check:
        result.check_returncode()
    return result


def fork(stage: Path, destination: Path) -> Path:
    run(
        [UV, "run", "--locked", "python", "-m", "scripts.fork", stage.name, str(destination)],
        ROOT,
    )
    return destination

"""`make run` and `make migrate` in a stage split into services: SERVICE picks one; without
it the first (in alphabetical order) is used, and named with the others; a SERVICE that is
none of them stops the command with the list. The same rule in every such stage."""

import subprocess
from pathlib import Path

import pytest

from tests.stages import ROOT, STAGES, import_packages, is_split

SPLIT = [stage for stage in STAGES if is_split(stage)]
WHOLE = [stage for stage in STAGES if not is_split(stage)]


def check_service(stage: Path, *variables: str) -> subprocess.CompletedProcess[str]:
    """The check `run` and `migrate` start with, alone: nothing installed or started."""
    return subprocess.run(  # noqa: S603 (make, with our own arguments)
        [  # noqa: S607
            "make",
            "--silent",
            "--no-print-directory",
            "--eval",
            "check-service: ; $(check_service)",
            "check-service",
            f"STAGE={stage.name}",
            *variables,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("stage", SPLIT, ids=[stage.name for stage in SPLIT])
def test_without_service_the_first_is_used_and_named_with_the_others(stage: Path) -> None:
    services = import_packages(stage)
    result = check_service(stage)

    assert result.returncode == 0, result.stderr
    assert f"({' '.join(sorted(services))})" in result.stdout
    assert f"{sorted(services)[0]}, the first; another with SERVICE=" in result.stdout


@pytest.mark.parametrize("stage", SPLIT, ids=[stage.name for stage in SPLIT])
def test_a_service_the_stage_does_not_have_is_refused_with_the_list(stage: Path) -> None:
    result = check_service(stage, "SERVICE=no_such_service")

    assert result.returncode == 2
    assert f"SERVICE must be one of: {' '.join(sorted(import_packages(stage)))}" in result.stderr


@pytest.mark.parametrize("stage", SPLIT, ids=[stage.name for stage in SPLIT])
def test_each_of_its_services_is_accepted_silently(stage: Path) -> None:
    for service in import_packages(stage):
        result = check_service(stage, f"SERVICE={service}")
        assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), service


@pytest.mark.parametrize("stage", WHOLE[:1], ids=[stage.name for stage in WHOLE[:1]])
def test_a_stage_of_one_package_says_nothing(stage: Path) -> None:
    result = check_service(stage)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")

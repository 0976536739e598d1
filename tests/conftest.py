"""One fork of each stage for the whole repository suite: forking and installing a stage
costs a minute, and the fork tests and the exercise tests read the same fork."""

from pathlib import Path

import pytest

from tests.forks import fork
from tests.stages import STAGES


@pytest.fixture(scope="session", params=STAGES, ids=[stage.name for stage in STAGES])
def forked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """(the stage, its fork). A test that changes the fork puts it back as it found it."""
    stage: Path = request.param
    return stage, fork(stage, tmp_path_factory.mktemp("fork") / stage.name)

"""`python -m social.worker --check`, the container's health check: healthy while the relay
finishes passes, unhealthy before its first and once it stops."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from social import worker
from social.config import get_settings


@pytest.fixture
def heartbeat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "relay.heartbeat"
    monkeypatch.setenv("SOCIAL_RELAY_HEARTBEAT", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def check() -> object:
    with pytest.raises(SystemExit) as exited:
        worker.main(["--check"])
    return exited.value.code


def test_the_check_follows_the_relays_heartbeat(heartbeat: Path) -> None:
    assert check() == 1  # no pass yet
    heartbeat.touch()
    assert check() == 0
    os.utime(heartbeat, (0, 0))  # the last pass, long ago: the relay is stuck
    assert check() == 1

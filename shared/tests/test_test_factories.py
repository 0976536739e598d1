"""The test helpers every suite's conftest uses."""

from pathlib import Path

import pytest
from pydantic_settings import SettingsConfigDict

from roadmap_shared.security.settings import TokenSettings
from roadmap_shared.settings import Environment
from roadmap_shared.testing.factories import TEST_JWT_KEY, password_hash, settings_for_tests


class StageSettings(TokenSettings):
    model_config = SettingsConfigDict(env_prefix="STAGE_", env_file=".env")

    jwt_issuer: str = "stage"
    jwt_audience: str = "stage"
    log_level: str = "INFO"


def test_settings_for_tests_ignore_a_developers_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("STAGE_LOG_LEVEL=DEBUG\nSTAGE_JWT_ACTIVE_KID=laptop\n")
    monkeypatch.chdir(tmp_path)
    assert StageSettings().log_level == "DEBUG"  # what the tests must not pick up

    settings = settings_for_tests(StageSettings)

    assert settings.log_level == "INFO"
    assert settings.environment is Environment.TEST
    assert settings.jwt_active_kid == "test"
    assert settings.jwt_keys["test"].get_secret_value() == TEST_JWT_KEY


async def test_the_password_hash_is_computed_once_per_password() -> None:
    first = await password_hash("correct horse battery staple")
    assert await password_hash("correct horse battery staple") is first
    assert await password_hash("another passphrase entirely") != first

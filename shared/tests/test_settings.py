import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from roadmap_shared.settings import AppSettings, Environment


class StageSettings(AppSettings):
    model_config = SettingsConfigDict(env_prefix="SAMPLE_", env_file=None)

    jwt_secret: SecretStr = SecretStr("change-me")


def test_settings_come_from_prefixed_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SAMPLE_CORS_ORIGINS", '["https://a.example"]')
    monkeypatch.setenv("SAMPLE_MAX_BODY_BYTES", "2048")
    settings = StageSettings()
    assert settings.cors_origins == ["https://a.example"]
    assert settings.max_body_bytes == 2048


def test_a_placeholder_secret_is_accepted_in_development() -> None:
    assert StageSettings(environment=Environment.DEVELOPMENT).jwt_secret.get_secret_value()


def test_a_placeholder_secret_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="SAMPLE_JWT_SECRET"):
        StageSettings(environment=Environment.PRODUCTION)


def test_a_real_secret_is_accepted_in_production() -> None:
    settings = StageSettings(environment=Environment.PRODUCTION, jwt_secret=SecretStr("x" * 40))
    assert settings.environment is Environment.PRODUCTION

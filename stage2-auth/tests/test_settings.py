import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from auth_service.config import Settings
from roadmap_shared.settings import Environment

ENV_EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"


def test_env_example_documents_every_setting() -> None:
    documented = set(re.findall(r"^AUTH_(\w+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))
    assert documented == {name.upper() for name in Settings.model_fields}


def test_env_example_is_a_valid_development_configuration() -> None:
    settings = Settings(_env_file=ENV_EXAMPLE)
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.jwt_active_kid in settings.jwt_keys


def test_the_development_signing_key_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="AUTH_JWT_KEYS"):
        Settings(_env_file=ENV_EXAMPLE, environment=Environment.PRODUCTION)

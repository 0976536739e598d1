import pytest
from pydantic import SecretStr, ValidationError

from orders.config import Settings
from roadmap_shared.security.public_keys import DEVELOPMENT_PRIVATE_KEY, generate_private_key_pem
from roadmap_shared.settings import Environment


def test_the_published_development_key_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="development key"):
        Settings(_env_file=None, environment=Environment.PRODUCTION)
    assert (
        Settings(_env_file=None).jwt_private_keys["dev"].get_secret_value()
        == DEVELOPMENT_PRIVATE_KEY
    )


@pytest.mark.parametrize(
    ("keys", "active"),
    [({"a": "not a pem"}, "a"), ({"a": generate_private_key_pem()}, "b")],
)
def test_unusable_signing_keys_are_refused(keys: dict[str, str], active: str) -> None:
    with pytest.raises(ValidationError):
        Settings(
            _env_file=None,
            jwt_private_keys={kid: SecretStr(pem) for kid, pem in keys.items()},
            jwt_active_kid=active,
        )


def test_a_settler_that_could_settle_running_checkouts_is_refused() -> None:
    """Two calls of three 15-second attempts can outlast a one-minute wait."""
    with pytest.raises(ValidationError, match="SETTLE_AFTER_SECONDS must exceed"):
        Settings(_env_file=None, catalog_timeout_seconds=15, settle_after_seconds=60)
    assert Settings(_env_file=None, catalog_timeout_seconds=15, settle_after_seconds=120)

"""Test data every suite makes the same way: settings for tests, their signing key, and
the password hash of the test users."""

from typing import Any, TypeVar

from pydantic import SecretStr

from roadmap_shared.security.passwords import hash_password
from roadmap_shared.security.settings import TokenSettings
from roadmap_shared.settings import AppSettings, Environment

# 64 bytes: long enough that signing with HS512 (as token attack tests do) draws no warning.
TEST_JWT_KEY = "a-test-signing-key-long-enough-for-every-hmac-algorithm-01234567"

SettingsT = TypeVar("SettingsT", bound=AppSettings)

_password_hashes: dict[str, str] = {}


def settings_for_tests(settings_class: type[SettingsT], **values: Any) -> SettingsT:
    """`settings_class` from `values` and test defaults only: the environment is `test`,
    tokens are signed with `TEST_JWT_KEY`, and a developer's `.env` is not read, so it
    cannot change what the tests test."""
    defaults: dict[str, Any] = {"environment": Environment.TEST}
    if issubclass(settings_class, TokenSettings):
        defaults |= {"jwt_keys": {"test": SecretStr(TEST_JWT_KEY)}, "jwt_active_kid": "test"}
    return settings_class(_env_file=None, **(defaults | values))


async def password_hash(password: str) -> str:
    """`password`'s argon2 hash, computed once per run: hashing takes tens of milliseconds
    by design, and most test users share one password."""
    if password not in _password_hashes:
        _password_hashes[password] = await hash_password(password)
    return _password_hashes[password]

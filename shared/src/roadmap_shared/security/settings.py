"""Settings for stages that sign tokens. A stage's settings subclass `TokenSettings`."""

import hashlib
import hmac
from datetime import timedelta

from pydantic import Field, SecretStr

from roadmap_shared.security.tokens import TokenCodec
from roadmap_shared.settings import DEVELOPMENT_SECRET, AppSettings


class TokenSettings(AppSettings):
    # Key id -> secret. To rotate: add a new key, make it active, and remove the old one
    # once the longest-lived token it signed has expired. From the environment as JSON:
    # PREFIX_JWT_KEYS='{"2026-11": "..."}'
    jwt_keys: dict[str, SecretStr] = Field(
        default_factory=lambda: {"dev": SecretStr(DEVELOPMENT_SECRET)}
    )
    jwt_active_kid: str = "dev"
    # No defaults: each service names itself, so that a token one service signs is refused
    # by another, even where both were given the same key.
    jwt_issuer: str
    jwt_audience: str
    access_token_minutes: int = Field(default=15, gt=0)

    @property
    def access_token_lifetime(self) -> timedelta:
        return timedelta(minutes=self.access_token_minutes)

    @property
    def rate_limit_key_secret(self) -> bytes:
        """Keys the hashes of email addresses in rate-limit keys (`ratelimit.account_key`).

        Derived from the active signing key, so there is no further secret to set, and
        labelled, so that it is never the signing key itself. Rotating the signing key
        starts every account's limit afresh, which is harmless.
        """
        key = self.jwt_keys[self.jwt_active_kid].get_secret_value().encode()
        return hmac.new(key, b"rate-limit account keys", hashlib.sha256).digest()

    def token_codec(self) -> TokenCodec:
        return TokenCodec(
            keys={kid: key.get_secret_value() for kid, key in self.jwt_keys.items()},
            active_kid=self.jwt_active_kid,
            issuer=self.jwt_issuer,
            audience=self.jwt_audience,
        )

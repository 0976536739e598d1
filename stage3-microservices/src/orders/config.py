"""Settings, read from `ORDERS_*` environment variables (and `.env`)."""

import hashlib
import hmac
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from roadmap_shared.messaging.topology import DEFAULT_EXCHANGE
from roadmap_shared.money import CURRENCY_EXPONENTS
from roadmap_shared.security.public_keys import (
    DEVELOPMENT_PRIVATE_KEY,
    TokenSigner,
    load_private_key,
    refuse_development_key,
)
from roadmap_shared.settings import DatabaseSettings, Environment


class Settings(DatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERS_")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/orders"
    redis_url: str = "redis://127.0.0.1:6379/0"

    # The Ed25519 private keys this service signs tokens with (it logs users in), as
    # PKCS#8 PEM by key id. Every key's public half is published at
    # /.well-known/jwks.json; the active one signs. To rotate: add a key, make it active,
    # remove the old one once the tokens it signed have expired. As JSON in the
    # environment: ORDERS_JWT_PRIVATE_KEYS='{"2026-12": "-----BEGIN PRIVATE KEY-----\n..."}'
    jwt_private_keys: dict[str, SecretStr] = Field(
        default_factory=lambda: {"dev": SecretStr(DEVELOPMENT_PRIVATE_KEY)}
    )
    jwt_active_kid: str = "dev"
    jwt_issuer: str = "orders"
    # Every service of the shop accepts these tokens: the audience is the shop.
    jwt_audience: str = "shop"
    access_token_minutes: int = Field(default=15, gt=0)
    # Failed or not, login attempts per email per minute: slows down password guessing.
    login_attempts_per_minute: int = Field(default=10, gt=0)

    # Money. Prices come from the catalog; the tax is added here, on the subtotal.
    currency: str = "EUR"
    tax_rate_basis_points: int = Field(default=2000, ge=0, le=10_000)

    # The catalog service, and how long this service waits for it. Every call has a
    # timeout; idempotent calls are retried (attempts in all) after a jittered backoff;
    # after `catalog_breaker_failures` failures in a row the breaker opens and checkouts
    # answer 503 at once for `catalog_breaker_cooldown_seconds`.
    catalog_url: str = "http://127.0.0.1:8001"
    catalog_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    catalog_attempts: int = Field(default=3, ge=1, le=5)
    catalog_backoff_seconds: float = Field(default=0.1, ge=0, le=5)
    catalog_breaker_failures: int = Field(default=3, ge=1)
    catalog_breaker_cooldown_seconds: float = Field(default=5.0, gt=0)

    # Settling: a checkout left `pending` or `confirming` (its process died, or the
    # catalog's answer to the confirmation was lost) is settled by the worker, which asks
    # the catalog what became of its reservation. It waits `settle_after_seconds` since
    # the order last changed, longer than a checkout's own calls can take, so that it
    # never settles a checkout still running; and looks every `settle_interval_seconds`.
    settle_after_seconds: float = Field(default=60.0, gt=0)
    settle_interval_seconds: float = Field(default=10.0, gt=0, le=600)

    # Events: the relay (`python -m orders.worker`) publishes the outbox to this exchange,
    # checking for new rows every `relay_interval_seconds`. It touches `relay_heartbeat`
    # after each pass, which `python -m orders.worker --check` reads (the health check).
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    events_exchange: str = DEFAULT_EXCHANGE
    relay_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    relay_heartbeat: Path = Path("var/orders-relay.heartbeat")

    @property
    def access_token_lifetime(self) -> timedelta:
        return timedelta(minutes=self.access_token_minutes)

    @property
    def rate_limit_key_secret(self) -> bytes:
        """Keys the hashes of email addresses in rate-limit keys, derived from the active
        signing key (labelled, so it is never the key itself)."""
        key = self.jwt_private_keys[self.jwt_active_kid].get_secret_value().encode()
        return hmac.new(key, b"rate-limit account keys", hashlib.sha256).digest()

    def private_keys(self) -> dict[str, str]:
        return {kid: key.get_secret_value() for kid, key in self.jwt_private_keys.items()}

    def token_signer(self) -> TokenSigner:
        return TokenSigner(
            private_keys=self.private_keys(),
            active_kid=self.jwt_active_kid,
            issuer=self.jwt_issuer,
            audience=self.jwt_audience,
        )

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in CURRENCY_EXPONENTS:
            known = ", ".join(sorted(CURRENCY_EXPONENTS))
            raise ValueError(f"unsupported currency {value!r}; use one of {known}")
        return value

    @model_validator(mode="after")
    def _settle_after_a_checkout_is_over(self) -> Self:
        # The longest one call to the catalog can take: every attempt times out, after the
        # longest backoffs. A checkout makes two (reserve, confirm).
        backoffs = sum(self.catalog_backoff_seconds * 2**n for n in range(self.catalog_attempts))
        longest_call = self.catalog_attempts * self.catalog_timeout_seconds + backoffs
        if self.settle_after_seconds <= 2 * longest_call:
            raise ValueError(
                f"ORDERS_SETTLE_AFTER_SECONDS must exceed {2 * longest_call:.1f}, the longest a "
                "checkout's calls to the catalog can take, or it would settle running checkouts"
            )
        return self

    @model_validator(mode="after")
    def _usable_signing_keys(self) -> Self:
        if self.jwt_active_kid not in self.jwt_private_keys:
            raise ValueError("ORDERS_JWT_ACTIVE_KID names no key of ORDERS_JWT_PRIVATE_KEYS")
        for kid, pem in self.private_keys().items():
            try:
                load_private_key(pem)
            except ValueError as exc:
                raise ValueError(
                    f"ORDERS_JWT_PRIVATE_KEYS[{kid!r}] is not an Ed25519 private key in PEM"
                ) from exc
        if self.environment is not Environment.DEVELOPMENT:
            refuse_development_key(self.private_keys(), "ORDERS_JWT_PRIVATE_KEYS")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""Settings, read from `PAYMENTS_*` environment variables (and `.env`)."""

import hashlib
import hmac
import uuid
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from roadmap_shared.messaging.topology import DEFAULT_EXCHANGE, RETRY_DELAYS_SECONDS
from roadmap_shared.money import CURRENCY_EXPONENTS
from roadmap_shared.security.public_keys import (
    DEVELOPMENT_PRIVATE_KEY,
    TokenSigner,
    load_private_key,
    refuse_development_key,
)
from roadmap_shared.settings import DatabaseSettings, Environment


class Settings(DatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAYMENTS_")

    port: int = Field(default=8008, ge=1, le=65535)
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/payments"
    redis_url: str = "redis://127.0.0.1:6379/0"

    # The Ed25519 private keys customers' access tokens are signed with, as PKCS#8 PEM by
    # key id; the active one signs (rotation as in stage3-microservices' orders). As JSON:
    # PAYMENTS_JWT_PRIVATE_KEYS='{"2026-12": "-----BEGIN PRIVATE KEY-----\n..."}'
    jwt_private_keys: dict[str, SecretStr] = Field(
        default_factory=lambda: {"dev": SecretStr(DEVELOPMENT_PRIVATE_KEY)}
    )
    jwt_active_kid: str = "dev"
    jwt_issuer: str = "payments"
    jwt_audience: str = "fintech"
    access_token_minutes: int = Field(default=15, gt=0)
    # Failed or not, login attempts per email per minute: slows down password guessing.
    login_attempts_per_minute: int = Field(default=10, gt=0)

    # Every wallet holds this currency; amounts are integers in its minor unit.
    currency: str = "EUR"
    # The largest single payment, in minor units (1,000,000.00 EUR by default).
    max_amount: int = Field(default=100_000_000, gt=0, le=2**53)
    # The ledger's accounts on the other side of customers' money: top-ups come from the
    # settlement account (it may go negative: it mirrors the money held at the bank), and
    # payouts go to the clearing account until the bank has paid them out.
    settlement_account_id: uuid.UUID = uuid.UUID("00000000-0000-4000-8000-00000000f00d")
    payouts_account_id: uuid.UUID = uuid.UUID("00000000-0000-4000-8000-0000000000b7")

    # The ledger's gRPC API. Every call has a deadline; a call that failed for want of the
    # ledger (UNAVAILABLE, DEADLINE_EXCEEDED) is sent again, with the same transfer id,
    # after a jittered backoff, `ledger_attempts` times in all. Then the request answers
    # 503 with Retry-After.
    ledger_address: str = "127.0.0.1:50051"
    ledger_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    ledger_attempts: int = Field(default=3, ge=1, le=5)
    ledger_backoff_seconds: float = Field(default=0.1, ge=0, le=5)
    ledger_retry_after_seconds: int = Field(default=5, ge=1)
    # Transfers and payouts reserve the funds (a pending transfer) until the fraud check
    # or a reviewer decides; the ledger releases a reservation left this long.
    pending_timeout_seconds: int = Field(default=7 * 24 * 3600, gt=0, le=2**32 - 1)

    # The fraud check: a transfer or payout is held for review when the customer made more
    # than `velocity_limit` of them within `velocity_window_seconds` (this one included),
    # or when its amount is at least `review_amount`.
    velocity_limit: int = Field(default=5, ge=1)
    velocity_window_seconds: int = Field(default=3600, gt=0)
    review_amount: int = Field(default=1_000_000, gt=0)

    # Events: the relay publishes the outbox to this exchange; the fraud consumer reads
    # `payment.requested` from its own queue (retry and dead-letter queues named after it).
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    events_exchange: str = DEFAULT_EXCHANGE
    consumer_name: str = "payments.fraud"
    retry_delays_seconds: list[float] = Field(
        default_factory=lambda: list(RETRY_DELAYS_SECONDS), min_length=1
    )
    prefetch: int = Field(default=10, ge=1)
    relay_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    relay_heartbeat: Path = Path("var/payments-relay.heartbeat")

    # Reconciling (payments.reconcile, in the worker): a transfer or payout left `pending`
    # (its `payment.requested` dead-lettered, the worker down, a post whose answer was
    # lost), or any payment left `new` (the ledger's answer never recorded, no retry), is
    # ended from what the ledger says of its transfer, once it has not changed for
    # `reconcile_after_seconds`: longer than the fraud check and all its retries can
    # take (so longer than a request's ledger call too), so that it never races a check
    # or a request still running. Payments held for review that long are counted and
    # logged, left to staff. A pass every `reconcile_interval_seconds`.
    reconcile_after_seconds: float = Field(default=900.0, gt=0)
    reconcile_interval_seconds: float = Field(default=60.0, gt=0, le=3600)

    # The worker serves its metrics (the fraud check's dead letters, the reconciler's
    # gauges) on this port, on `host`, for Prometheus; 0 serves none. The API's
    # `/metrics` is another process's, which never sees the worker's.
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)

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
    def _distinct_house_accounts(self) -> Self:
        if self.settlement_account_id == self.payouts_account_id:
            raise ValueError(
                "PAYMENTS_SETTLEMENT_ACCOUNT_ID and PAYMENTS_PAYOUTS_ACCOUNT_ID must differ"
            )
        return self

    @model_validator(mode="after")
    def _reconcile_after_the_fraud_check_gave_up(self) -> Self:
        # The longest the check of one payment can go on: every delivery (the first and
        # one per retry delay) posts with every ledger attempt timing out, after the
        # longest backoffs, and the retries wait their delays in between.
        backoffs = sum(self.ledger_backoff_seconds * 2**n for n in range(self.ledger_attempts))
        longest_post = self.ledger_attempts * self.ledger_timeout_seconds + backoffs
        deliveries = len(self.retry_delays_seconds) + 1
        longest_check = sum(self.retry_delays_seconds) + deliveries * longest_post
        if self.reconcile_after_seconds <= longest_check:
            raise ValueError(
                f"PAYMENTS_RECONCILE_AFTER_SECONDS must exceed {longest_check:.1f}, the longest "
                "the fraud check and its retries can take, or it would race a running check"
            )
        return self

    @model_validator(mode="after")
    def _usable_signing_keys(self) -> Self:
        if self.jwt_active_kid not in self.jwt_private_keys:
            raise ValueError("PAYMENTS_JWT_ACTIVE_KID names no key of PAYMENTS_JWT_PRIVATE_KEYS")
        for kid, pem in self.private_keys().items():
            try:
                load_private_key(pem)
            except ValueError as exc:
                raise ValueError(
                    f"PAYMENTS_JWT_PRIVATE_KEYS[{kid!r}] is not an Ed25519 private key in PEM"
                ) from exc
        if self.environment is not Environment.DEVELOPMENT:
            refuse_development_key(self.private_keys(), "PAYMENTS_JWT_PRIVATE_KEYS")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""Settings for the billing API, read from `PAYMENTS_*` environment variables (or `.env`)."""

from datetime import timedelta
from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from roadmap_shared.security.settings import TokenSettings
from roadmap_shared.settings import DEVELOPMENT_SECRET, DatabaseSettings


class Settings(TokenSettings, DatabaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PAYMENTS_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/billing"
    redis_url: str = "redis://127.0.0.1:6379/0"

    jwt_issuer: str = "billing"
    jwt_audience: str = "billing"
    access_token_minutes: int = Field(default=60, gt=0)

    # Stripe. The key is a placeholder in development (refused anywhere else); the API base
    # points the client at a stand-in (localstripe, or a test double) instead of Stripe.
    stripe_api_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    stripe_api_base: str = "https://api.stripe.com"
    # A StripeClient built without this tries once; retries reuse the idempotency key.
    stripe_max_network_retries: int = Field(default=2, ge=0, le=5)
    stripe_timeout_seconds: float = Field(default=10.0, gt=0)
    # Where Stripe's hosted Checkout page sends the customer back: pages of the front end.
    # Arriving there proves nothing; the payment is fulfilled by the webhook.
    checkout_success_url: str = "http://127.0.0.1:3000/payments/done"
    checkout_cancel_url: str = "http://127.0.0.1:3000/payments/canceled"
    # Signing secrets of the webhook endpoint, newest first: during a rotation both the old
    # and the new secret are accepted. JSON list: PAYMENTS_STRIPE_WEBHOOK_SECRETS='["whsec_.."]'
    stripe_webhook_secrets: list[SecretStr] = Field(
        default_factory=lambda: [SecretStr(DEVELOPMENT_SECRET)], min_length=1
    )
    # Older signatures are refused, so a captured delivery cannot be replayed later.
    webhook_tolerance_seconds: int = Field(default=300, gt=0)

    # The worker: how it drains the webhook inbox.
    jobs_queue: str = "billing:jobs"
    inbox_batch_size: int = Field(default=20, gt=0)
    inbox_max_attempts: int = Field(default=8, gt=0)
    inbox_retry_base_seconds: int = Field(default=5, gt=0)
    # An event claimed this long ago and still not processed was abandoned by a worker that
    # died: the sweeper hands it back.
    inbox_stuck_after_seconds: int = Field(default=300, gt=0)
    inbox_retention_days: int = Field(default=30, gt=0)

    # Dunning: how long a past-due subscription keeps its plan before it is suspended.
    dunning_grace_days: int = Field(default=7, ge=0)

    logins_per_minute_per_address: int = Field(default=20, gt=0)
    logins_per_minute_per_account: int = Field(default=10, gt=0)

    @property
    def dunning_grace(self) -> timedelta:
        return timedelta(days=self.dunning_grace_days)


@lru_cache
def get_settings() -> Settings:
    return Settings()

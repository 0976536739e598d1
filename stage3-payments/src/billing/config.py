"""Settings for the billing API, read from `PAYMENTS_*` environment variables (or `.env`)."""

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from billing.plans import PRICE_KEYS
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
    # The same for a plan bought on Checkout, and where the Billing Portal's "return" goes.
    subscription_success_url: str = "http://127.0.0.1:3000/billing/subscribed"
    subscription_cancel_url: str = "http://127.0.0.1:3000/billing/plans"
    billing_portal_return_url: str = "http://127.0.0.1:3000/billing"
    # The Stripe Price of each paid plan and interval (made once in the dashboard; the ids
    # differ between accounts and between test and live mode). Placeholders in development.
    # JSON: PAYMENTS_PLAN_PRICES='{"pro_month": "price_..", "pro_year": "price_..", ...}'
    plan_prices: dict[str, str] = Field(
        default_factory=lambda: {key: f"price_{key}" for key in sorted(PRICE_KEYS)}
    )
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

    # Emails to owners (receipts, failed payments, disputes), through the outbox: written
    # to files in mail_dir, or sent through an SMTP server (roadmap_shared.smtp).
    mail_backend: Literal["file", "smtp"] = "file"
    mail_from: str = "Billing <billing@saas.example>"
    mail_dir: Path = Path("var/mail")
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    # starttls: upgrade a plain connection (port 587); tls: TLS from the first byte (465);
    # none: plain text, for a relay on the same host or a development catcher only.
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str = ""  # empty: do not log in
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    # An email job that fails for a passing reason is retried after base, 2 x base, ...
    job_retry_base_seconds: float = Field(default=5.0, gt=0)
    job_max_tries: int = Field(default=5, ge=1)

    # Dunning: how long a past-due subscription keeps its plan before it is suspended.
    dunning_grace_days: int = Field(default=7, ge=0)

    logins_per_minute_per_address: int = Field(default=20, gt=0)
    logins_per_minute_per_account: int = Field(default=10, gt=0)

    @field_validator("plan_prices")
    @classmethod
    def _every_plan_has_a_price(cls, prices: dict[str, str]) -> dict[str, str]:
        if prices.keys() != PRICE_KEYS:
            raise ValueError(f"plan_prices needs exactly the keys {sorted(PRICE_KEYS)}")
        return prices

    @field_validator("smtp_password", mode="before")
    @classmethod
    def _empty_means_unset(cls, value: object) -> object:
        # `PAYMENTS_SMTP_PASSWORD=`, as in .env.example, means no password, not an empty one.
        return None if value == "" else value

    @model_validator(mode="after")
    def _smtp_login_is_encrypted(self) -> Self:
        if self.smtp_username:
            if self.smtp_password is None:
                raise ValueError("PAYMENTS_SMTP_USERNAME is set but PAYMENTS_SMTP_PASSWORD is not")
            if self.smtp_security == "none":
                raise ValueError(
                    "PAYMENTS_SMTP_USERNAME needs PAYMENTS_SMTP_SECURITY=starttls or tls: "
                    "the password must not cross the network in plain text"
                )
        return self

    @property
    def dunning_grace(self) -> timedelta:
        return timedelta(days=self.dunning_grace_days)


@lru_cache
def get_settings() -> Settings:
    return Settings()

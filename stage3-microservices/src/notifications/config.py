"""Settings, read from `NOTIFICATIONS_*` environment variables (and `.env`)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from roadmap_shared.messaging.topology import DEFAULT_EXCHANGE, RETRY_DELAYS_SECONDS
from roadmap_shared.settings import DatabaseSettings


class Settings(DatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_")

    port: int = Field(default=8003, ge=1, le=65535)
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/notifications"

    # Events: the exchange the other services publish to, and this consumer's queue name
    # (its retry and dead-letter queues are named after it).
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    events_exchange: str = DEFAULT_EXCHANGE
    consumer_name: str = "notifications"
    # Waits before the 2nd, 3rd, ... attempt at an event whose email could not be sent.
    retry_delays_seconds: list[float] = Field(
        default_factory=lambda: list(RETRY_DELAYS_SECONDS), min_length=1
    )
    prefetch: int = Field(default=10, ge=1)

    # Who is told when stock runs low.
    admin_emails: list[str] = Field(default_factory=lambda: ["admins@shop.example"], min_length=1)

    # Email: written to files in mail_dir, or sent through an SMTP server.
    mail_backend: Literal["file", "smtp"] = "file"
    mail_from: str = "Shop <orders@shop.example>"
    mail_dir: Path = Path("var/mail")
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    # starttls: upgrade a plain connection (port 587); tls: TLS from the first byte (465);
    # none: plain text, for a relay on the same host or a development catcher only.
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str = ""  # empty: do not log in
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""Settings, read from `AUDIT_*` environment variables (and `.env`)."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from roadmap_shared.messaging.topology import DEFAULT_EXCHANGE, RETRY_DELAYS_SECONDS
from roadmap_shared.settings import DatabaseSettings


class Settings(DatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUDIT_")

    # Health checks and /metrics only: the service has no API.
    port: int = Field(default=8009, ge=1, le=65535)
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/audit"

    # Events: the exchange the payments service publishes to, and this consumer's queue
    # name (its retry and dead-letter queues are named after it).
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    events_exchange: str = DEFAULT_EXCHANGE
    consumer_name: str = "audit"
    # Waits before the 2nd, 3rd, ... attempt at an event that could not be recorded.
    retry_delays_seconds: list[float] = Field(
        default_factory=lambda: list(RETRY_DELAYS_SECONDS), min_length=1
    )
    # Appends are serialised by one lock, so more messages in flight only queue on it.
    prefetch: int = Field(default=10, ge=1)


@lru_cache
def get_settings() -> Settings:
    return Settings()

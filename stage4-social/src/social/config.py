"""Settings for the social network, read from `SOCIAL_*` environment variables (or `.env`)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from roadmap_shared.messaging.topology import DEFAULT_EXCHANGE, RETRY_DELAYS_SECONDS
from roadmap_shared.security.settings import TokenSettings
from roadmap_shared.settings import DatabaseSettings


class Settings(TokenSettings, DatabaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SOCIAL_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/social"
    redis_url: str = "redis://127.0.0.1:6379/9"

    jwt_issuer: str = "social"
    jwt_audience: str = "social"
    access_token_minutes: int = Field(default=60, gt=0)
    logins_per_minute_per_address: int = Field(default=20, gt=0)

    # Home timelines. Each is a Redis sorted set of post ids, the newest `timeline_length`
    # kept (Mastodon keeps 400): a reader paging past that goes to the author's profile.
    timeline_length: int = Field(default=400, ge=1, le=10_000)
    # A timeline nobody read for this long expires; the next read rebuilds it from
    # PostgreSQL. Fan-out skips timelines that do not exist, so inactive users cost nothing.
    timeline_ttl_seconds: int = Field(default=7 * 24 * 3600, gt=0)
    # An author with at least this many followers is not fanned out on write: a post would
    # be a million Redis writes. Readers merge such authors' posts in at read time.
    fan_out_on_read_followers: int = Field(default=10_000, ge=1)

    # Events: the relay publishes the outbox to this exchange; the fan-out consumer reads
    # `post.created` from its own queue (retry and dead-letter queues named after it).
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    events_exchange: str = DEFAULT_EXCHANGE
    consumer_name: str = "social.fan-out"
    retry_delays_seconds: list[float] = Field(
        default_factory=lambda: list(RETRY_DELAYS_SECONDS), min_length=1
    )
    prefetch: int = Field(default=10, ge=1)
    relay_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    relay_heartbeat: Path = Path("var/social-relay.heartbeat")


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""Settings for the Conduit API, read from `BLOG_*` environment variables (or `.env`)."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from roadmap_shared.security.settings import TokenSettings
from roadmap_shared.settings import DatabaseSettings


class Settings(TokenSettings, DatabaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BLOG_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/conduit"
    redis_url: str = "redis://127.0.0.1:6379/0"

    # Conduit's own issuer and audience, not the project-wide defaults: the stages share a
    # development key, so a token another service signed (a shop's, where user 1 is a
    # customer) would otherwise pass for one of ours (where user 1 may be an admin).
    jwt_issuer: str = "conduit"
    jwt_audience: str = "conduit"

    # The RealWorld front ends keep the token until it stops working and have no refresh
    # flow, so a 15-minute token would sign people out mid-article. One day is a compromise.
    access_token_minutes: int = Field(default=24 * 60, gt=0)

    # Rate limits (GCRA in Redis): bursts up to the limit, then the limit's steady rate.
    writes_per_minute: int = Field(default=30, gt=0)
    logins_per_minute_per_account: int = Field(default=5, gt=0)
    logins_per_minute_per_address: int = Field(default=20, gt=0)
    registrations_per_hour_per_address: int = Field(default=20, gt=0)

    # How long anonymous article lists and the tag list may be served from Redis. Writes
    # invalidate them at once; the TTL only bounds staleness when an invalidation is lost.
    # 0 turns that cache off: every read goes to PostgreSQL (to measure it, or to debug).
    article_list_cache_seconds: int = Field(default=30, ge=0)
    tags_cache_seconds: int = Field(default=300, ge=0)


@lru_cache
def get_settings() -> Settings:
    return Settings()

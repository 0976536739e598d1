"""Settings for the ride-sharing API, read from `RIDES_*` environment variables (or `.env`)."""

from datetime import timedelta
from functools import lru_cache
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from rides.geo.index import MAX_SEARCH_STEPS
from roadmap_shared.security.settings import TokenSettings
from roadmap_shared.settings import DatabaseSettings


class Settings(TokenSettings, DatabaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RIDES_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/rides"
    redis_url: str = "redis://127.0.0.1:6379/6"

    jwt_issuer: str = "rides"
    jwt_audience: str = "rides"
    access_token_minutes: int = Field(default=60, gt=0)
    logins_per_minute_per_address: int = Field(default=20, gt=0)

    # The driver socket. Its ticket is a separate, short-lived token: a socket cannot send
    # an Authorization header from a browser, and a token in the URL ends up in logs.
    socket_ticket_seconds: int = Field(default=60, gt=0)
    # How long a new socket may take to send its ticket before it is closed.
    socket_auth_seconds: float = Field(default=5.0, gt=0)
    # A driver silent this long is closed and, from then on, never a candidate.
    heartbeat_timeout_seconds: float = Field(default=30.0, gt=0)
    # Pings closer together than this are refused (a driver sends one every few seconds).
    min_ping_interval_seconds: float = Field(default=1.0, ge=0)
    # Faster than this between two pings is a bad GPS fix or a forged position.
    max_speed_kmh: float = Field(default=200.0, gt=0)
    max_frame_bytes: int = Field(default=4096, gt=0)
    # A rider's heartbeat reads the followed trip again (to make up for a lost publish) at
    # most this often per socket: a client sending heartbeats in a loop costs no more.
    rider_reread_seconds: float = Field(default=5.0, ge=0)

    # The geo index: the city every position is filed under, and the radii of the search
    # (widening, at most eight, none beyond 50 km: a driver farther away is not coming).
    city: str = "default"
    search_radii_km: list[Annotated[float, Field(gt=0, le=50)]] = Field(
        default_factory=lambda: [0.5, 1.0, 2.0, 5.0], min_length=1, max_length=8
    )
    candidates_per_radius: int = Field(default=10, gt=0, le=100)
    # The steps one search makes at most (widening, or looking past busy drivers, asking
    # for twice as many each time) before the trip is told no driver is near.
    max_search_steps: int = Field(default=MAX_SEARCH_STEPS, gt=0, le=16)

    @field_validator("search_radii_km")
    @classmethod
    def _widening(cls, radii: list[float]) -> list[float]:
        if radii != sorted(set(radii)):
            raise ValueError("the search radii must widen, each larger than the last")
        return radii

    # Dispatch: a driver has this long to accept an offer; after this many offers (or
    # when no driver is near) the trip is cancelled and the rider told so.
    offer_seconds: float = Field(default=15.0, gt=0)
    max_offers_per_trip: int = Field(default=5, gt=0)
    # The dispatcher's lease on a trip outlives one offer, and is renewed at each one.
    lease_seconds: float = Field(default=20.0, gt=0)

    # The sweeper: a trip still requested after this long, and never queued (its stream
    # entry was lost), is queued again; it looks every `sweep_every_seconds`.
    requeue_after_seconds: float = Field(default=30.0, gt=0)
    sweep_every_seconds: float = Field(default=10.0, gt=0)
    # The pings of trips in progress are written from Redis to PostgreSQL this often: what
    # a Redis restart mid-ride could lose.
    flush_pings_every_seconds: float = Field(default=5.0, gt=0)

    # Prices, in cents, and the speed a duration estimate assumes.
    base_fare_cents: int = Field(default=250, ge=0)
    per_km_cents: int = Field(default=120, ge=0)
    per_minute_cents: int = Field(default=30, ge=0)
    average_speed_kmh: float = Field(default=25.0, gt=0)

    @property
    def socket_ticket_lifetime(self) -> timedelta:
        return timedelta(seconds=self.socket_ticket_seconds)


@lru_cache
def get_settings() -> Settings:
    return Settings()

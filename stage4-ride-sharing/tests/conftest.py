from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rides.config import Settings
from rides.dispatch.offers import Offers
from rides.geo.index import GeoIndex
from rides.main import create_app
from rides.streams import TripRequests
from roadmap_shared.testing.factories import settings_for_tests
from roadmap_shared.testing.live_server import live_server


def make_settings(database_url: str, redis_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "redis_url": redis_url,
        "logins_per_minute_per_address": 1000,
        # Short deadlines keep every wait in the suite bounded and brief.
        "offer_seconds": 1.0,
        "lease_seconds": 2.0,
        "socket_auth_seconds": 1.0,
        "min_ping_interval_seconds": 0.0,
        **overrides,
    }
    return settings_for_tests(Settings, **values)


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(database_url, redis_url)


@pytest.fixture
def app(settings: Settings, redis_client: Redis) -> FastAPI:
    # `redis_client` empties the suite's Redis database first: no position or offer leaks.
    return create_app(settings)


@pytest.fixture
def server_settings(database_url: str, redis_url: str) -> Settings:
    """Settings of the app served on a real socket; a test overrides this to change them."""
    return make_settings(database_url, redis_url)


@pytest.fixture
def server(
    server_settings: Settings, redis_client: Redis, committed_session: AsyncSession
) -> Iterator[str]:
    """The app on 127.0.0.1 (uvicorn, as `python -m rides` runs it), for WebSocket tests;
    its base URL. What its requests commit is removed after the test (`committed_session`)."""
    with live_server(create_app(server_settings), server_settings) as port:
        yield f"127.0.0.1:{port}"


@pytest.fixture
def instance_b(server_settings: Settings, server: str) -> Iterator[str]:
    """A second instance of the app, beside `server` (instance A), sharing its services."""
    with live_server(create_app(server_settings), server_settings) as port:
        yield f"127.0.0.1:{port}"


@pytest.fixture
def sessions(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that really commit, each on its own connection, as the dispatcher uses."""
    return async_sessionmaker(db_engine, expire_on_commit=False)


@pytest.fixture
def geo(redis_client: Redis, settings: Settings) -> GeoIndex:
    return GeoIndex(
        redis_client, city=settings.city, stale_after_seconds=settings.heartbeat_timeout_seconds
    )


@pytest.fixture
def offers(redis_client: Redis, settings: Settings) -> Offers:
    return Offers(redis_client, offer_seconds=settings.offer_seconds)


@pytest_asyncio.fixture
async def trip_requests(redis_client: Redis) -> AsyncIterator[TripRequests]:
    queue = TripRequests(redis_client)
    await queue.ensure_group()
    yield queue

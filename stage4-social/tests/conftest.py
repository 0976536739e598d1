from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from roadmap_shared.testing.factories import settings_for_tests
from roadmap_shared.testing.messaging import TEST_RETRY_DELAYS_SECONDS
from social.config import Settings
from social.main import create_app
from social.timelines.store import TimelineStore

# Small, so that the tests reach them with a handful of rows: a timeline of 5 posts, and
# an author with 3 followers is a large account whose posts are merged at read time.
TIMELINE_LENGTH = 5
LARGE_ACCOUNT_FOLLOWERS = 3


def make_settings(database_url: str, redis_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "redis_url": redis_url,
        "logins_per_minute_per_address": 1000,
        "timeline_length": TIMELINE_LENGTH,
        "fan_out_on_read_followers": LARGE_ACCOUNT_FOLLOWERS,
        "retry_delays_seconds": list(TEST_RETRY_DELAYS_SECONDS),
        **overrides,
    }
    return settings_for_tests(Settings, **values)


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(database_url, redis_url)


@pytest.fixture
def app(settings: Settings, redis_client: Redis) -> FastAPI:
    # `redis_client` empties the suite's Redis database first: no timeline leaks.
    return create_app(settings)


@pytest_asyncio.fixture
async def store(redis_client: Redis, settings: Settings) -> AsyncIterator[TimelineStore]:
    """The timelines, on a client of their own (the app's closes with its lifespan)."""
    client = Redis.from_url(settings.redis_url)
    yield TimelineStore(
        client, length=settings.timeline_length, ttl_seconds=settings.timeline_ttl_seconds
    )
    await client.aclose()


@pytest.fixture
def sessions(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that really commit, each on its own connection, as the worker's do."""
    return async_sessionmaker(db_engine, expire_on_commit=False)

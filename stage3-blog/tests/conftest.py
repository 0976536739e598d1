from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from fastapi import FastAPI
from redis.asyncio import Redis

from conduit.config import Settings
from conduit.main import create_app
from roadmap_shared.testing.factories import settings_for_tests


def make_settings(database_url: str, redis_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "redis_url": redis_url,
        # Generous by default; the rate limit tests set their own.
        "writes_per_minute": 1000,
        "logins_per_minute_per_account": 1000,
        "logins_per_minute_per_address": 1000,
        "registrations_per_hour_per_address": 1000,
        **overrides,
    }
    return settings_for_tests(Settings, **values)


@pytest.fixture(scope="session")
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(database_url, redis_url)


@pytest_asyncio.fixture
async def app(settings: Settings, redis_client: Redis) -> AsyncIterator[FastAPI]:
    # `redis_client` empties the suite's Redis database first: no cached page or spent
    # rate limit leaks from one test into the next.
    yield create_app(settings)

import pytest
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


@pytest.fixture
def app(settings: Settings, redis_client: Redis) -> FastAPI:
    # `redis_client` empties the suite's Redis database first: no cached page, spent rate
    # limit or queued job leaks from one test into the next.
    return create_app(settings)

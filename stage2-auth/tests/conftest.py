import pytest
import pytest_asyncio
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.config import Settings
from auth_service.main import create_app
from roadmap_shared.testing.factories import settings_for_tests
from tests.factories import SignedIn, create_user, sign_in


@pytest.fixture(scope="session")
def settings(database_url: str, redis_url: str) -> Settings:
    return settings_for_tests(
        Settings,
        database_url=database_url,
        redis_url=redis_url,
        password_min_length=15,
        login_attempts_per_account=5,
        login_attempts_per_address=20,
        registrations_per_address=20,
        emails_per_account=3,
        reset_requests_per_address=20,
    )


@pytest.fixture
def app(settings: Settings, redis_client: Redis) -> FastAPI:
    # `redis_client` empties the suite's Redis database first: no cached page, spent rate
    # limit or queued job leaks from one test into the next.
    return create_app(settings)


@pytest_asyncio.fixture
async def alice(db_session: AsyncSession, settings: Settings) -> SignedIn:
    return await sign_in(db_session, settings, await create_user(db_session, display_name="Alice"))


@pytest_asyncio.fixture
async def bob(db_session: AsyncSession, settings: Settings) -> SignedIn:
    return await sign_in(db_session, settings, await create_user(db_session, display_name="Bob"))


@pytest_asyncio.fixture
async def admin(db_session: AsyncSession, settings: Settings) -> SignedIn:
    user = await create_user(db_session, display_name="Admin", admin=True)
    return await sign_in(db_session, settings, user)

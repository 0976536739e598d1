"""Redis holds the rate limits; without it the service still answers, and the login limits
still hold, counted in this process until Redis is back."""

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.config import Settings
from auth_service.main import create_app
from roadmap_shared.testing.redis_down import (
    UNREACHABLE_REDIS_URL,
    assert_limited_after,
    assert_ready_but_degraded,
)
from tests.factories import create_user, login


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings.model_copy(update={"redis_url": UNREACHABLE_REDIS_URL}))


async def test_without_redis_guessing_passwords_is_still_limited(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    user = await create_user(db_session)
    answers = [await login(client, user.email, "a wrong passphrase here") for _ in range(6)]
    assert_limited_after(answers, 5, status=401)


async def test_readiness_reports_redis_down_without_failing(client: AsyncClient) -> None:
    assert_ready_but_degraded(await client.get("/readyz"))

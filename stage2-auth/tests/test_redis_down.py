"""Redis holds the rate limits; without it the service still answers, and the login limits
still hold, counted in this process until Redis is back."""

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.config import Settings
from auth_service.main import create_app
from tests.factories import create_user, login

NOBODY_LISTENS = "redis://127.0.0.1:1/0"


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings.model_copy(update={"redis_url": NOBODY_LISTENS}))


async def test_without_redis_guessing_passwords_is_still_limited(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    user = await create_user(db_session)
    answers = [await login(client, user.email, "a wrong passphrase here") for _ in range(6)]
    assert [answer.status_code for answer in answers] == [401] * 5 + [429]
    assert int(answers[-1].headers["Retry-After"]) > 0


async def test_readiness_reports_redis_down_without_failing(client: AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["postgres"] == "ok"
    assert response.json()["checks"]["redis"].startswith("failed")

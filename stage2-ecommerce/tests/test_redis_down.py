"""Redis is a cache here, not a source of truth: without it the shop is slower, not down,
and its login limit still holds, counted in this process."""

from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.testing.redis_down import (
    UNREACHABLE_REDIS_URL,
    assert_limited_after,
    assert_ready_but_degraded,
)
from shop.config import Settings
from shop.main import create_app
from shop.models import Role
from tests.conftest import make_settings
from tests.factories import auth, make_product, make_user


@pytest.fixture
def unreachable_redis_settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(tmp_path, database_url=database_url, redis_url=UNREACHABLE_REDIS_URL)


@pytest.fixture
def app(unreachable_redis_settings: Settings) -> FastAPI:
    return create_app(unreachable_redis_settings)


async def test_with_redis_down_the_catalogue_still_answers_from_the_database(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    unreachable_redis_settings: Settings,
) -> None:
    product = await make_product(committed_session, name="Still here")
    admin = auth(unreachable_redis_settings, await make_user(committed_session, role=Role.ADMIN))

    listed = await committing_client.get("/products")
    detail = await committing_client.get(f"/products/{product.id}")
    tree = await committing_client.get("/categories")
    renamed = await committing_client.patch(
        f"/admin/products/{product.id}", json={"name": "Renamed"}, headers=admin
    )
    reread = await committing_client.get(f"/products/{product.id}")
    ready = await committing_client.get("/readyz")

    assert listed.status_code == tree.status_code == 200
    assert [item["name"] for item in listed.json()["items"]] == ["Still here"]
    assert detail.json()["name"] == "Still here"
    assert renamed.status_code == 200  # the invalidation failed quietly; the write stands
    assert reread.json()["name"] == "Renamed"
    # The operators are told, but the replica stays in rotation: it still serves.
    assert_ready_but_degraded(ready)


async def test_with_redis_down_password_guessing_is_still_limited(
    client: AsyncClient, unreachable_redis_settings: Settings
) -> None:
    attempt = {"email": "target@example.com", "password": "guess-guess-guess"}
    limit = unreachable_redis_settings.login_attempts_per_minute
    answers = [await client.post("/auth/login", json=attempt) for _ in range(limit + 1)]

    assert_limited_after(answers, limit, status=401)

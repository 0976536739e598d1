"""`SHOP_CACHE_TTL_SECONDS=0` turns the catalogue cache off: every read goes to PostgreSQL,
and nothing is cached in Redis. Benchmarks measure the database path this way."""

import logging
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from shop.main import create_app
from shop.models import Product
from tests.conftest import make_settings
from tests.factories import make_product


@pytest.fixture
def app(database_url: str, redis_url: str, redis_client: Redis, tmp_path: Path) -> FastAPI:
    settings = make_settings(
        tmp_path, database_url=database_url, redis_url=redis_url, cache_ttl_seconds=0
    )
    return create_app(settings)


async def test_without_a_cache_lifetime_every_read_sees_the_database(
    client: AsyncClient,
    db_session: AsyncSession,
    redis_client: Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    product = await make_product(db_session, name="Original")
    await client.get(f"/products/{product.id}")
    await client.get("/products")

    # Written behind the API's back: a cache would go on serving the old name.
    await db_session.execute(update(Product).where(Product.id == product.id).values(name="New"))
    await db_session.commit()
    detail = (await client.get(f"/products/{product.id}")).json()
    listed = (await client.get("/products")).json()

    assert detail["name"] == "New"
    assert [item["name"] for item in listed["items"]] == ["New"]
    assert await redis_client.keys("shop-test:*") == []
    # Not even tried: a cache asked to store with no lifetime would log its failure.
    assert not [r for r in caplog.records if r.name == "roadmap_shared.cache"]

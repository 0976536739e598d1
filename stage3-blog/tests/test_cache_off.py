"""A cache lifetime of 0 turns that cache off: every read goes to PostgreSQL, and nothing
is written to Redis but the rate limits. Benchmarks measure the database path this way."""

import logging

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.main import create_app
from tests.conftest import make_settings
from tests.factories import make_article, make_user


@pytest.fixture
def app(database_url: str, redis_url: str, redis_client: Redis) -> FastAPI:
    settings = make_settings(
        database_url, redis_url, article_list_cache_seconds=0, tags_cache_seconds=0
    )
    return create_app(settings)


async def test_without_a_cache_lifetime_lists_and_tags_are_read_fresh_every_time(
    client: AsyncClient,
    db_session: AsyncSession,
    redis_client: Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    author = await make_user(db_session)
    await make_article(db_session, author, tags=["first"])
    first_list = (await client.get("/api/articles")).json()
    first_tags = (await client.get("/api/tags")).json()

    # Written behind the API's back: a cache would go on serving the first answers.
    await make_article(db_session, author, tags=["second"])
    second_list = (await client.get("/api/articles")).json()
    second_tags = (await client.get("/api/tags")).json()

    assert (first_list["articlesCount"], second_list["articlesCount"]) == (1, 2)
    assert (first_tags["tags"], sorted(second_tags["tags"])) == (["first"], ["first", "second"])
    assert await redis_client.keys("conduit:cache:*") == []
    # Not even tried: a cache asked to store with no lifetime would log its failure.
    assert not [r for r in caplog.records if r.name == "roadmap_shared.cache"]

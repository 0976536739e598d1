"""Exercise 3 (hard): a cached feed. `make exercise STAGE=stage3-blog N=3`"""

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
from roadmap_shared.testing.queries import QueryLog
from tests.factories import auth, follow, make_articles, make_user

pytestmark = pytest.mark.exercise
TODO = "Exercise 3: keep each reader's first feed page in Redis (see the README)"
Counter = Callable[[], AbstractContextManager[QueryLog]]


async def statements(
    client: AsyncClient, count: Counter, url: str, headers: dict[str, str]
) -> list[str]:
    with count() as queries:
        response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return queries.statements


async def feed_titles(client: AsyncClient, headers: dict[str, str]) -> list[str]:
    response = await client.get("/api/articles/feed", headers=headers)
    assert response.status_code == 200, response.text
    return [article["title"] for article in response.json()["articles"]]


async def test_a_second_read_of_the_feed_comes_from_redis(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, query_counter: Counter
) -> None:
    reader, author = await make_user(db_session), await make_user(db_session)
    await follow(db_session, reader, author)
    await make_articles(db_session, author, 3)
    headers = auth(settings, reader)

    await statements(client, query_counter, "/api/articles/feed", headers)
    again = await statements(client, query_counter, "/api/articles/feed", headers)
    # The feed is one statement, the reader checked inside it: a second read that still
    # reads the articles did not come from Redis. Finding the reader may reach the database.
    on_articles = [sql for sql in again if "articles" in sql]
    assert not on_articles, (
        f"{TODO}: the second read still read the articles in {len(on_articles)} of its "
        f"{len(again)} statements; only finding the reader should reach the database"
    )


async def test_the_cached_feed_follows_publishing_and_unfollowing(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    reader = await make_user(db_session)
    author = await make_user(db_session)
    author_headers, headers = auth(settings, author), auth(settings, reader)
    followed = await client.post(f"/api/profiles/{author.username}/follow", headers=headers)
    assert followed.status_code == 200
    assert await feed_titles(client, headers) == []

    article = {"article": {"title": "Fresh", "description": "d", "body": "b"}}
    published = await client.post("/api/articles", json=article, headers=author_headers)
    assert published.status_code == 201
    assert await feed_titles(client, headers) == ["Fresh"], TODO

    unfollowed = await client.delete(f"/api/profiles/{author.username}/follow", headers=headers)
    assert unfollowed.status_code == 200
    assert await feed_titles(client, headers) == [], (
        f"{TODO}: a reader never sees an article by someone they have unfollowed"
    )

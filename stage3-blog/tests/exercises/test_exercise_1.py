"""Exercise 1 (easy): a tag filter with several tags.
`make exercise STAGE=stage3-blog N=1`"""

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.testing.queries import QueryLog
from tests.factories import make_article, make_user

pytestmark = pytest.mark.exercise
TODO = "Exercise 1: ?tag=a&tag=b returns the articles that have all the tags (see the README)"


async def titles(client: AsyncClient, query: str) -> tuple[list[str], int]:
    response = await client.get(f"/api/articles?{query}")
    assert response.status_code == 200, response.text
    body = response.json()
    return sorted(a["title"] for a in body["articles"]), body["articlesCount"]


async def test_several_tags_select_the_articles_that_have_them_all(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    author = await make_user(db_session)
    await make_article(db_session, author, "Both", tags=["python", "redis"])
    await make_article(db_session, author, "Python only", tags=["python"])
    await make_article(db_session, author, "Redis only", tags=["redis"])

    assert await titles(client, "tag=python") == (["Both", "Python only"], 2)
    assert await titles(client, "tag=python&tag=redis") == (["Both"], 1), TODO
    assert await titles(client, "tag=redis&tag=python") == (["Both"], 1), (
        f"{TODO}: the order of the tags does not matter, in the database or in the cache"
    )
    assert await titles(client, "tag=python&tag=nosuchtag") == ([], 0), TODO


async def test_more_tags_cost_no_more_statements(
    client: AsyncClient,
    db_session: AsyncSession,
    query_counter: Callable[[], AbstractContextManager[QueryLog]],
) -> None:
    author = await make_user(db_session)
    await make_article(db_session, author, tags=["a", "b", "c"])
    costs = []
    for query in ["tag=a&q=article", "tag=a&tag=b&tag=c&q=article"]:  # q: never cached
        with query_counter() as queries:
            response = await client.get(f"/api/articles?{query}")
        assert response.json()["articlesCount"] == 1, TODO
        costs.append(queries.count)
    assert costs[0] == costs[1], f"{TODO}: filter in the same statements, whatever the count"

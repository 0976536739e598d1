"""No N+1: a page of 20 articles costs the same SQL statements as a page of 1."""

from collections.abc import Callable
from contextlib import AbstractContextManager

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
from conduit.models import User
from roadmap_shared.testing.queries import QueryLog
from tests.factories import auth, favorite, follow, make_articles, make_comment, make_user

QueryCounter = Callable[[], AbstractContextManager[QueryLog]]


async def busy_site(session: AsyncSession) -> User:
    """A reader who follows three authors with 24 articles between them, each tagged,
    favorited and commented."""
    reader = await make_user(session)
    for _ in range(3):
        author = await make_user(session)
        await follow(session, reader, author)
        for article in await make_articles(session, author, 8, tags=["a", "b"]):
            await favorite(session, reader, article)
            await make_comment(session, article, author)
    return reader


async def statements(
    client: AsyncClient,
    count: QueryCounter,
    url: str,
    *,
    params: dict[str, int] | None = None,
    headers: dict[str, str] | None = None,
) -> int:
    with count() as queries:
        response = await client.get(url, params=params, headers=headers)
    assert response.status_code == 200
    return queries.count


async def test_the_article_list_costs_the_same_for_1_and_20_articles(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, query_counter: QueryCounter
) -> None:
    reader = await busy_site(db_session)
    headers = auth(settings, reader)

    signed_in = [
        await statements(
            client, query_counter, "/api/articles", params={"limit": n}, headers=headers
        )
        for n in (1, 20)
    ]
    anonymous = [  # the first read of each page misses the cache and goes to PostgreSQL
        await statements(client, query_counter, "/api/articles", params={"limit": n})
        for n in (1, 20)
    ]

    # The reader, the page with its flags and counts, the page's tags, the total.
    assert signed_in == [4, 4]
    assert anonymous == [3, 3]


async def test_the_feed_costs_the_same_for_1_and_20_articles(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, query_counter: QueryCounter
) -> None:
    reader = await busy_site(db_session)
    headers = auth(settings, reader)

    feed = [
        await statements(
            client, query_counter, "/api/articles/feed", params={"limit": n}, headers=headers
        )
        for n in (1, 20)
    ]

    assert feed == [4, 4]


async def test_comments_cost_the_same_however_many_there_are(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, query_counter: QueryCounter
) -> None:
    reader, author = await make_user(db_session), await make_user(db_session)
    await follow(db_session, reader, author)
    quiet, busy = await make_articles(db_session, author, 2)
    await make_comment(db_session, quiet, author)
    for _ in range(20):
        await make_comment(db_session, busy, await make_user(db_session))

    counts = [
        await statements(
            client,
            query_counter,
            f"/api/articles/{article.slug}/comments",
            headers=auth(settings, reader),
        )
        for article in (quiet, busy)
    ]

    assert counts == [3, 3]  # the reader, the article, its comments with their authors

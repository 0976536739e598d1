"""No N+1: a page of 20 articles costs the same SQL statements as a page of 1."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

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

    # The page with its tags, flags and counts, the total, and (signed in) the check that
    # the reader's account exists, in one.
    assert signed_in == [1, 1]
    assert anonymous == [1, 1]


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

    assert feed == [1, 1]  # the page, the total and the reader's account, in one


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


def loops_over(plan: dict[str, Any], table: str) -> list[int]:
    """How many times each node of an EXPLAIN ANALYZE plan that reads `table` ran."""
    own = [plan["Actual Loops"]] if plan.get("Relation Name") == table else []
    return own + [loops for child in plan.get("Plans", []) for loops in loops_over(child, table)]


async def test_a_deep_page_counts_favorites_only_for_the_articles_it_shows(
    client: AsyncClient, db_session: AsyncSession, db_engine: AsyncEngine, settings: Settings
) -> None:
    reader = await busy_site(db_session)  # 24 articles
    page: list[tuple[str, Any]] = []

    def keep_the_page_query(_c: Any, _cu: Any, statement: str, parameters: Any, *_: Any) -> None:
        if " LIMIT " in statement:
            page.append((statement, parameters))

    event.listen(db_engine.sync_engine, "before_cursor_execute", keep_the_page_query)
    try:
        response = await client.get(
            "/api/articles", params={"limit": 2, "offset": 20}, headers=auth(settings, reader)
        )
    finally:
        event.remove(db_engine.sync_engine, "before_cursor_execute", keep_the_page_query)
    assert len(response.json()["articles"]) == 2
    [(statement, parameters)] = page
    connection = await db_session.connection()
    explained = await connection.exec_driver_sql(
        f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters
    )
    plan = explained.scalar_one()[0]["Plan"]  # asyncpg decodes the JSON

    # PostgreSQL computes the SELECT list of every row OFFSET skips; the page is chosen by
    # id first, so the favorites of the 20 skipped articles are never counted.
    assert max(loops_over(plan, "favorites")) <= 2

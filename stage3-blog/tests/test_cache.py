"""Caching: anonymous article lists and the tag list come from Redis until a write makes
them stale; a cold hot key is loaded once however many readers ask at once."""

import asyncio

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
from roadmap_shared.testing.queries import count_queries
from tests.factories import auth, favorite, make_article, make_articles, make_user


async def article_count(
    client: AsyncClient,
    headers: dict[str, str] | None = None,
    params: dict[str, int] | None = None,
) -> int:
    response = await client.get("/api/articles", headers=headers, params=params)
    assert response.status_code == 200
    count: int = response.json()["articlesCount"]
    return count


async def test_an_anonymous_list_is_cached_until_an_article_is_written(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db_session)
    await make_article(db_session, author)
    assert await article_count(client) == 1

    # Written behind the API's back: nothing tells the cache.
    await make_article(db_session, author)
    assert await article_count(client) == 1

    created = await client.post(
        "/api/articles",
        json={"article": {"title": "New", "description": "d", "body": "b"}},
        headers=auth(settings, author),
    )
    assert created.status_code == 201
    assert await article_count(client) == 3


async def test_different_queries_are_cached_apart(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    author = await make_user(db_session, "jake")
    await make_article(db_session, author, tags=["dragons"])

    empty_tag = await client.get("/api/articles", params={"tag": ""})
    other_tag = await client.get("/api/articles", params={"tag": "cats"})
    everything = await client.get("/api/articles")
    by_jake = await client.get("/api/articles", params={"author": "jake", "limit": 1})

    assert [r.json()["articlesCount"] for r in (empty_tag, other_tag, everything, by_jake)] == [
        1,
        0,
        1,
        1,
    ]


async def test_a_signed_in_reader_never_gets_the_cached_list(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db_session)
    await make_article(db_session, author)
    assert await article_count(client) == 1

    await make_article(db_session, author)

    assert await article_count(client, auth(settings, author)) == 2


async def test_a_favorite_refreshes_the_counts_anonymous_readers_see(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    article = await make_article(db_session, await make_user(db_session))
    before = (await client.get("/api/articles")).json()["articles"][0]["favoritesCount"]

    await client.post(
        f"/api/articles/{article.slug}/favorite",
        headers=auth(settings, await make_user(db_session)),
    )

    after = (await client.get("/api/articles")).json()["articles"][0]["favoritesCount"]
    assert (before, after) == (0, 1)


async def test_an_unfavorite_lowers_the_count_anonymous_readers_see(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    article = await make_article(db_session, await make_user(db_session))
    reader = await make_user(db_session)
    await favorite(db_session, reader, article)
    before = (await client.get("/api/articles")).json()["articles"][0]["favoritesCount"]

    unfavorited = await client.delete(
        f"/api/articles/{article.slug}/favorite", headers=auth(settings, reader)
    )

    after = (await client.get("/api/articles")).json()["articles"][0]["favoritesCount"]
    assert unfavorited.status_code == 200
    assert (before, after) == (1, 0)


async def test_a_deleted_article_leaves_the_cached_lists_and_tags_at_once(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db_session)
    article = await make_article(db_session, author, tags=["doomed"])
    assert await article_count(client) == 1  # now cached
    assert (await client.get("/api/tags")).json() == {"tags": ["doomed"]}

    deleted = await client.delete(f"/api/articles/{article.slug}", headers=auth(settings, author))

    assert deleted.status_code == 204  # spec v2: no body
    assert await article_count(client) == 0
    assert (await client.get("/api/tags")).json() == {"tags": []}


async def test_a_new_bio_shows_in_cached_lists_at_once(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db_session, bio="Old bio")
    await make_article(db_session, author)
    await client.get("/api/articles")

    await client.put("/api/user", json={"user": {"bio": "New bio"}}, headers=auth(settings, author))

    listed = await client.get("/api/articles")
    assert listed.json()["articles"][0]["author"]["bio"] == "New bio"


async def test_the_tag_list_is_cached_until_an_article_is_written(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db_session)
    article = await make_article(db_session, author, tags=["old"])
    assert (await client.get("/api/tags")).json() == {"tags": ["old"]}

    await make_article(db_session, author, tags=["sneaky"])
    assert (await client.get("/api/tags")).json() == {"tags": ["old"]}

    await client.put(
        f"/api/articles/{article.slug}",
        json={"article": {"tagList": ["new"]}},
        headers=auth(settings, author),
    )
    assert (await client.get("/api/tags")).json() == {"tags": ["new", "sneaky"]}


@pytest.mark.slow
async def test_twenty_readers_of_a_cold_list_cause_one_load(
    app: FastAPI, committing_client: AsyncClient, committed_session: AsyncSession
) -> None:
    await make_articles(committed_session, await make_user(committed_session), 3)

    with count_queries(app.state.database.engine.sync_engine) as queries:
        responses = await asyncio.gather(
            *(committing_client.get("/api/articles") for _ in range(20))
        )

    assert {response.status_code for response in responses} == {200}
    assert {response.json()["articlesCount"] for response in responses} == {3}
    # One page of articles (with their tags and its count): once, not twenty times.
    assert queries.count == 1, str(queries)


async def test_a_search_is_read_from_the_database_every_time(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    author = await make_user(db_session)
    await make_article(db_session, author, "Dragons")

    first = await client.get("/api/articles", params={"q": "dragons"})
    # Written behind the API's back: a cached search would not show it.
    await make_article(db_session, author, "More dragons")
    second = await client.get("/api/articles", params={"q": "dragons"})

    # Each search is a key of its own, read about once: caching them would only let
    # anyone fill Redis by searching for random words.
    assert (first.json()["articlesCount"], second.json()["articlesCount"]) == (1, 2)


async def test_only_whole_pages_within_the_first_hundred_articles_are_cached(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    author = await make_user(db_session)
    await make_article(db_session, author)
    pages = [
        {"limit": 20, "offset": 80},  # page five of twenty: cached
        {"limit": 20, "offset": 100},  # page six: past the first hundred articles
        {"limit": 20, "offset": 30},  # not a page a front end asks for
    ]

    before = [await article_count(client, params=page) for page in pages]
    await make_article(db_session, author)  # behind the API's back again
    after = [await article_count(client, params=page) for page in pages]

    # The others would be a long tail of keys, each read about once.
    assert (before, after) == ([1, 1, 1], [1, 2, 2])


async def test_a_favorite_leaves_the_cached_tag_list_alone(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db_session)
    article = await make_article(db_session, author, tags=["old"])
    assert (await client.get("/api/tags")).json() == {"tags": ["old"]}
    await make_article(db_session, author, tags=["sneaky"])

    favorited = await client.post(
        f"/api/articles/{article.slug}/favorite",
        headers=auth(settings, await make_user(db_session)),
    )

    # Favorites do not change which tags are in use: the cached list is still good.
    assert favorited.status_code == 200
    assert (await client.get("/api/tags")).json() == {"tags": ["old"]}

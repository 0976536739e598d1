"""Articles: create, read, list, update, delete, favorite — the spec's contract."""

import re
from datetime import UTC, datetime

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
from conduit.models import Role
from tests.factories import (
    auth,
    favorite,
    follow,
    make_article,
    make_articles,
    make_user,
)

# The API test collection's pattern for timestamps: fractional seconds are required.
TIMESTAMP = re.compile(
    r"^\d{4,}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d.\d+(?:[+-][0-2]\d:[0-5]\d|Z)$"
)
DRAGON = {
    "title": "How to train your dragon",
    "description": "Ever wonder how?",
    "body": "Very carefully.",
    "tagList": ["training", "dragons"],
}


async def test_creating_an_article_returns_it_as_the_spec_shows(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db_session, "jake")

    response = await client.post(
        "/api/articles", json={"article": DRAGON}, headers=auth(settings, author)
    )

    assert response.status_code == 201
    article = response.json()["article"]
    assert article == {
        "slug": "how-to-train-your-dragon",
        "title": "How to train your dragon",
        "description": "Ever wonder how?",
        "body": "Very carefully.",
        "tagList": ["dragons", "training"],  # alphabetical, as the collection expects
        "createdAt": article["createdAt"],
        "updatedAt": article["updatedAt"],
        "favorited": False,
        "favoritesCount": 0,
        "author": {"username": "jake", "bio": None, "image": None, "following": False},
    }
    assert TIMESTAMP.match(article["createdAt"])
    assert TIMESTAMP.match(article["updatedAt"])


async def test_an_article_needs_a_title_a_description_and_a_body(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db_session)

    response = await client.post(
        "/api/articles", json={"article": {"title": "  "}}, headers=auth(settings, author)
    )

    assert response.status_code == 422
    assert response.json() == {
        "errors": {
            "title": ["can't be blank"],
            "description": ["can't be blank"],
            "body": ["can't be blank"],
        }
    }


async def test_anyone_can_read_an_article_by_its_slug(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    article = await make_article(db_session, await make_user(db_session), tags=["b", "a"])

    response = await client.get(f"/api/articles/{article.slug}")

    assert response.status_code == 200
    assert response.json()["article"]["slug"] == article.slug
    assert response.json()["article"]["tagList"] == ["a", "b"]


async def test_an_unknown_slug_is_a_404_in_the_spec_shape(client: AsyncClient) -> None:
    response = await client.get("/api/articles/no-such-article")

    assert response.status_code == 404
    assert response.json() == {"errors": {"article": ["not found"]}}


async def test_the_list_is_most_recent_first_with_a_total_count(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    articles = await make_articles(db_session, await make_user(db_session), 5)

    response = await client.get("/api/articles", params={"limit": 2, "offset": 1})

    assert response.status_code == 200
    body = response.json()
    assert body["articlesCount"] == 5
    assert [a["slug"] for a in body["articles"]] == [articles[3].slug, articles[2].slug]


async def test_lists_and_the_feed_leave_the_body_out(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    reader, author = await make_user(db_session), await make_user(db_session)
    await follow(db_session, reader, author)
    article = await make_article(db_session, author)

    anonymous = await client.get("/api/articles")
    signed_in = await client.get("/api/articles", headers=auth(settings, reader))
    feed = await client.get("/api/articles/feed", headers=auth(settings, reader))
    single = await client.get(f"/api/articles/{article.slug}")

    # Spec v2: a list item is the article without its body; one article keeps it.
    for response in (anonymous, signed_in, feed):
        (listed,) = response.json()["articles"]
        assert "body" not in listed
        assert set(listed) == set(single.json()["article"]) - {"body"}
    assert single.json()["article"]["body"] == article.body


async def test_the_list_filters_by_tag_author_and_favoriting_user(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    jake = await make_user(db_session, "jake")
    celeb = await make_user(db_session, "celeb")
    fan = await make_user(db_session, "fan")
    dragons = await make_article(db_session, jake, tags=["dragons"])
    await make_article(db_session, jake, tags=["cats"])
    by_celeb = await make_article(db_session, celeb, tags=["dragons"])
    await favorite(db_session, fan, by_celeb)

    async def slugs(**params: str) -> list[str]:
        response = await client.get("/api/articles", params=params)
        return sorted(article["slug"] for article in response.json()["articles"])

    assert await slugs(tag="dragons") == sorted([dragons.slug, by_celeb.slug])
    assert await slugs(tag="dragons", author="jake") == [dragons.slug]
    assert await slugs(favorited="fan") == [by_celeb.slug]
    assert await slugs(author="nobody") == []


async def test_a_page_larger_than_100_or_an_absurd_offset_is_refused(client: AsyncClient) -> None:
    too_long = await client.get("/api/articles", params={"limit": 101})
    too_far = await client.get("/api/articles", params={"offset": 10**19})

    assert too_long.status_code == 422
    assert list(too_long.json()["errors"]) == ["limit"]
    assert too_far.status_code == 422
    assert list(too_far.json()["errors"]) == ["offset"]


async def test_the_feed_shows_only_followed_authors_most_recent_first(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    reader, followed, stranger = (
        await make_user(db_session),
        await make_user(db_session),
        await make_user(db_session),
    )
    await follow(db_session, reader, followed)
    older, newer = await make_articles(db_session, followed, 2)
    await make_article(db_session, stranger)

    response = await client.get("/api/articles/feed", headers=auth(settings, reader))

    assert response.status_code == 200
    body = response.json()
    assert body["articlesCount"] == 2
    assert [a["slug"] for a in body["articles"]] == [newer.slug, older.slug]
    assert all(a["author"]["following"] for a in body["articles"])


async def test_the_feed_needs_a_signed_in_user(client: AsyncClient) -> None:
    response = await client.get("/api/articles/feed")

    assert response.status_code == 401
    assert response.json() == {"errors": {"token": ["is missing"]}}


async def test_favoriting_counts_once_per_user_and_unfavoriting_undoes_it(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    article = await make_article(db_session, await make_user(db_session))
    fan = await make_user(db_session)
    headers = auth(settings, fan)

    await client.post(f"/api/articles/{article.slug}/favorite", headers=headers)
    twice = await client.post(f"/api/articles/{article.slug}/favorite", headers=headers)
    listed = await client.get("/api/articles", headers=headers)
    undone = await client.delete(f"/api/articles/{article.slug}/favorite", headers=headers)

    assert twice.status_code == 200
    assert (twice.json()["article"]["favorited"], twice.json()["article"]["favoritesCount"]) == (
        True,
        1,
    )
    assert listed.json()["articles"][0]["favorited"] is True
    assert (undone.json()["article"]["favorited"], undone.json()["article"]["favoritesCount"]) == (
        False,
        0,
    )


async def test_the_author_can_update_an_article_and_a_new_title_gives_a_new_slug(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db_session)
    created = await client.post(
        "/api/articles", json={"article": DRAGON}, headers=auth(settings, author)
    )
    slug = created.json()["article"]["slug"]

    body_only = await client.put(
        f"/api/articles/{slug}",
        json={"article": {"body": "With two hands"}},
        headers=auth(settings, author),
    )
    retitled = await client.put(
        f"/api/articles/{slug}",
        json={"article": {"title": "Did you train your dragon?", "tagList": ["pets"]}},
        headers=auth(settings, author),
    )

    assert body_only.status_code == 200
    assert body_only.json()["article"]["slug"] == slug
    assert body_only.json()["article"]["body"] == "With two hands"
    assert retitled.status_code == 200
    article = retitled.json()["article"]
    assert article["slug"] == "did-you-train-your-dragon"
    assert article["tagList"] == ["pets"]
    assert article["body"] == "With two hands"
    assert (await client.get(f"/api/articles/{slug}")).status_code == 404


async def test_a_retitled_article_whose_slug_is_taken_gets_a_suffixed_one(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db_session)
    await client.post("/api/articles", json={"article": DRAGON}, headers=auth(settings, author))
    other = await make_article(db_session, author, "Something else")

    response = await client.put(
        f"/api/articles/{other.slug}",
        json={"article": {"title": DRAGON["title"]}},
        headers=auth(settings, author),
    )

    assert response.status_code == 200
    assert re.fullmatch(r"how-to-train-your-dragon-[0-9a-f]{6}", response.json()["article"]["slug"])


async def test_nobody_but_the_author_can_update_an_article_not_even_an_admin(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    article = await make_article(db_session, await make_user(db_session))

    for role in (Role.USER, Role.ADMIN):
        other = await make_user(db_session, role=role)
        response = await client.put(
            f"/api/articles/{article.slug}",
            json={"article": {"body": "Mine now"}},
            headers=auth(settings, other),
        )
        assert response.status_code == 403
        assert response.json() == {"errors": {"article": ["forbidden"]}}


async def test_an_update_with_nothing_to_change_is_refused(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db_session)
    article = await make_article(db_session, author)

    response = await client.put(
        f"/api/articles/{article.slug}", json={"article": {}}, headers=auth(settings, author)
    )

    assert response.status_code == 422
    assert response.json() == {"errors": {"article": ["must have at least one field to change"]}}


async def test_the_author_can_delete_an_article_and_then_it_is_gone(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db_session)
    article = await make_article(db_session, author)

    response = await client.delete(f"/api/articles/{article.slug}", headers=auth(settings, author))

    assert response.status_code == 204  # spec v2 (v1 said 200)
    assert response.content == b""
    assert response.headers["RateLimit-Policy"].startswith('"writes"')
    assert (await client.get(f"/api/articles/{article.slug}")).status_code == 404


async def test_another_user_cannot_delete_an_article(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    article = await make_article(db_session, await make_user(db_session))
    other = await make_user(db_session)

    response = await client.delete(f"/api/articles/{article.slug}", headers=auth(settings, other))

    assert response.status_code == 403
    assert response.json() == {"errors": {"article": ["forbidden"]}}


async def test_an_update_made_only_of_nulls_is_refused_like_an_empty_one(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db_session)
    article = await make_article(db_session, author)

    response = await client.put(
        f"/api/articles/{article.slug}",
        json={"article": {"title": None, "body": None}},
        headers=auth(settings, author),
    )

    # Every article has a title and a body: null cannot clear them, and the document says so.
    assert response.status_code == 422
    assert response.json() == {"errors": {"title": ["can't be blank"], "body": ["can't be blank"]}}


async def test_a_listed_article_reads_as_the_article_itself_without_its_body(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    # Lists are written by PostgreSQL and one article by the response models: every name,
    # value and format must agree, down to milliseconds cut (not rounded) and escaping.
    reader = await make_user(db_session)
    author = await make_user(db_session, bio='Says "hi" to über-readers\nand dragons')
    await follow(db_session, reader, author)
    written = datetime(2026, 1, 2, 3, 4, 5, 678999, tzinfo=UTC)
    article = await make_article(
        db_session, author, 'Ünïcode & "quotes"', tags=["b", "a"], created_at=written
    )
    await favorite(db_session, reader, article)

    for headers in (auth(settings, reader), {}):
        listed = (await client.get("/api/articles", headers=headers)).json()["articles"]
        one = (await client.get(f"/api/articles/{article.slug}", headers=headers)).json()

        assert listed == [{k: v for k, v in one["article"].items() if k != "body"}]
        assert listed[0]["createdAt"] == "2026-01-02T03:04:05.678Z"

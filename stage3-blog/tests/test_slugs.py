"""Slugs: readable, unique even when the same title is created many times at once."""

import asyncio

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.articles.slugs import candidates, slugify
from conduit.config import Settings
from tests.factories import auth, make_user


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("How to train your dragon", "how-to-train-your-dragon"),
        ("  Crème brûlée: a how-to!  ", "creme-brulee-a-how-to"),
        ("C++ & Rust -- 2026", "c-rust-2026"),
        ("日本語のタイトル", "article"),
        ("x" * 300, "x" * 100),
    ],
)
def test_a_slug_is_the_title_in_lowercase_ascii_words(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_after_the_plain_slug_come_suffixed_ones() -> None:
    tried = list(candidates("Hello"))

    assert tried[0] == "hello"
    assert all(s.startswith("hello-") and len(s) == len("hello-") + 6 for s in tried[1:])
    assert len(set(tried)) == len(tried)


async def test_an_article_titled_feed_does_not_hide_the_feed(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    headers = auth(settings, await make_user(db_session))
    body = {"article": {"title": "Feed", "description": "d", "body": "b"}}

    created = await client.post("/api/articles", json=body, headers=headers)
    slug = created.json()["article"]["slug"]

    assert slug.startswith("feed-")
    assert (await client.get(f"/api/articles/{slug}")).json()["article"]["title"] == "Feed"
    assert "articles" in (await client.get("/api/articles/feed", headers=headers)).json()
    # The article routes do not take `feed` for a slug: `Allow` lists only the feed's GET.
    refused = await client.put("/api/articles/feed", json=body, headers=headers)
    assert refused.status_code == 405
    assert refused.headers["Allow"] == "GET, HEAD"


@pytest.mark.slow
async def test_twenty_concurrent_articles_with_one_title_all_get_distinct_slugs(
    committing_client: AsyncClient, committed_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(committed_session)
    article = {"article": {"title": "Same title", "description": "d", "body": "b"}}

    responses = await asyncio.gather(
        *(
            committing_client.post("/api/articles", json=article, headers=auth(settings, author))
            for _ in range(20)
        )
    )

    assert [r.status_code for r in responses] == [201] * 20
    slugs = {r.json()["article"]["slug"] for r in responses}
    assert len(slugs) == 20
    assert "same-title" in slugs

"""Exercise 3 (hard): posting exactly once, with an Idempotency-Key.
`make exercise STAGE=stage4-social N=3`"""

import asyncio

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from social.config import Settings
from social.models import OutboxEvent, Post
from tests.factories import accounts

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 3: POST /api/posts with an Idempotency-Key header creates one post and one "
    "event however often it is sent (see the README)"
)


async def count(session: AsyncSession, model: type[Post] | type[OutboxEvent]) -> int:
    found = await session.scalar(select(func.count()).select_from(model))
    await session.commit()
    return found or 0


async def test_a_retry_gets_the_same_post_and_another_body_is_refused(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    ada, bob = await accounts(db_session, settings, 2)
    headers = {**ada.headers, "Idempotency-Key": "draft-1"}
    first = await client.post("/api/posts", json={"body": "Hello"}, headers=headers)
    again = await client.post("/api/posts", json={"body": "Hello"}, headers=headers)
    assert first.status_code == again.status_code == 201, TODO
    assert first.json()["id"] == again.json()["id"], f"{TODO}: the retry gets the same post"
    assert await count(db_session, Post) == 1, TODO
    assert await count(db_session, OutboxEvent) == 1, f"{TODO}: one post.created event"

    other_body = await client.post("/api/posts", json={"body": "Changed"}, headers=headers)
    assert other_body.status_code == 422, f"{TODO}: the same key with another body is a 422"
    bobs = await client.post(
        "/api/posts", json={"body": "Hello"}, headers={**bob.headers, "Idempotency-Key": "draft-1"}
    )
    assert bobs.status_code == 201, TODO
    assert bobs.json()["id"] != first.json()["id"], f"{TODO}: a key is its author's own"
    too_long = await client.post(
        "/api/posts", json={"body": "x"}, headers={**ada.headers, "Idempotency-Key": "k" * 101}
    )
    assert too_long.status_code == 422, f"{TODO}: a key is 1 to 100 characters"


async def test_racing_retries_create_one_post(
    committing_client: AsyncClient, committed_session: AsyncSession, settings: Settings
) -> None:
    (ada,) = await accounts(committed_session, settings, 1)
    headers = {**ada.headers, "Idempotency-Key": "racing"}
    answers = await asyncio.gather(
        *(
            committing_client.post("/api/posts", json={"body": "Once"}, headers=headers)
            for _ in range(10)
        )
    )
    assert {answer.status_code for answer in answers} == {201}, (
        f"{TODO}: {[answer.status_code for answer in answers]}"
    )
    assert len({answer.json()["id"] for answer in answers}) == 1, TODO
    assert await count(committed_session, Post) == 1, TODO
    assert await count(committed_session, OutboxEvent) == 1, TODO

"""What two requests could take twice, taken at the same time: the database decides."""

import asyncio
from asyncio import Task
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from conduit.config import Settings
from conduit.models import Article
from tests.factories import auth, make_article, make_user

pytestmark = pytest.mark.slow


async def test_one_username_registered_five_times_at_once_makes_one_account(
    committing_client: AsyncClient,
) -> None:
    def registration(n: int) -> dict[str, object]:
        return {"user": {"username": "jake", "email": f"jake{n}@example.com", "password": "p" * 8}}

    responses = await asyncio.gather(
        *(committing_client.post("/api/users", json=registration(n)) for n in range(5))
    )

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    refused = [r.json() for r in responses if r.status_code == 409]
    assert refused == [{"errors": {"username": ["has already been taken"]}}] * 4


async def test_concurrent_favorites_by_one_user_count_once(
    committing_client: AsyncClient, committed_session: AsyncSession, settings: Settings
) -> None:
    article = await make_article(committed_session, await make_user(committed_session))
    fan = auth(settings, await make_user(committed_session))

    responses = await asyncio.gather(
        *(
            committing_client.post(f"/api/articles/{article.slug}/favorite", headers=fan)
            for _ in range(10)
        )
    )

    assert {r.status_code for r in responses} == {200}
    shown = await committing_client.get(f"/api/articles/{article.slug}")
    assert shown.json()["article"]["favoritesCount"] == 1


async def test_concurrent_follows_of_one_profile_store_one_follow(
    committing_client: AsyncClient, committed_session: AsyncSession, settings: Settings
) -> None:
    celeb = await make_user(committed_session)
    fan = auth(settings, await make_user(committed_session))

    responses = await asyncio.gather(
        *(
            committing_client.post(f"/api/profiles/{celeb.username}/follow", headers=fan)
            for _ in range(10)
        )
    )
    unfollowed = await committing_client.delete(
        f"/api/profiles/{celeb.username}/follow", headers=fan
    )

    assert {r.status_code for r in responses} == {200}
    # One row: a single unfollow removes it.
    assert unfollowed.json()["profile"]["following"] is False
    shown = await committing_client.get(f"/api/profiles/{celeb.username}", headers=fan)
    assert shown.json()["profile"]["following"] is False


async def until_a_request_waits_for_a_lock(watching: AsyncConnection, request: Task[Any]) -> None:
    """Returns once some query of this database is waiting for a lock."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(500):  # a bound, so that a broken test fails instead of hanging
        found = await watching.scalar(waiting)
        await watching.rollback()  # the activity view is a snapshot per transaction
        if found or request.done():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the request never waited for the delete's lock")


Write = tuple[str, str, dict[str, Any] | None]  # method, path, body


@pytest.mark.parametrize(
    "write",
    [
        ("POST", "/api/articles/{slug}/favorite", None),
        ("POST", "/api/articles/{slug}/comments", {"comment": {"body": "Hi"}}),
        ("PUT", "/api/articles/{slug}", {"article": {"body": "Edited."}}),
    ],
    ids=["favorite", "comment", "edit"],
)
async def test_a_write_that_waited_for_its_article_to_be_deleted_is_a_404_not_a_crash(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    db_engine: AsyncEngine,
    settings: Settings,
    write: Write,
) -> None:
    method, path, body = write
    author = await make_user(committed_session)
    article = await make_article(committed_session, author)

    async with db_engine.connect() as deleting, db_engine.connect() as watching:
        # A moderator's delete, in progress: the row is locked until it commits.
        await deleting.execute(delete(Article).where(Article.id == article.id))
        request = asyncio.create_task(
            committing_client.request(
                method, path.format(slug=article.slug), json=body, headers=auth(settings, author)
            )
        )
        await until_a_request_waits_for_a_lock(watching, request)
        await deleting.commit()
        response = await request

    assert response.status_code == 404
    assert response.json() == {"errors": {"article": ["not found"]}}

"""Posts, likes and comments: the author's rights, likes that count once under races, and
comments a page at a time."""

import asyncio

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from social.config import Settings
from social.models import Like, OutboxEvent, Post
from social.posts.events import POST_CREATED
from tests.factories import account, accounts, post

PROBLEM = "application/problem+json"


async def test_a_post_is_written_with_its_event_in_one_transaction(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    ada = await account(db_session, settings)
    created = await client.post("/api/posts", json={"body": "  Hello  "}, headers=ada.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["body"] == "Hello"
    assert body["author"]["username"] == ada.username
    assert (body["like_count"], body["liked"]) == (0, False)

    (event,) = (await db_session.scalars(select(OutboxEvent))).all()
    assert event.event_type == POST_CREATED
    assert event.payload["post_id"] == body["id"]
    read = await client.get(f"/api/posts/{body['id']}", headers=ada.headers)
    assert read.json() == body


@pytest.mark.parametrize(
    "payload",
    [{}, {"body": ""}, {"body": "   "}, {"body": "x" * 501}, {"body": "nul\x00"}, {"body": 5}],
    ids=["missing", "empty", "blank", "too-long", "nul", "not-text"],
)
async def test_a_bad_post_or_comment_is_a_422_problem(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, payload: dict[str, object]
) -> None:
    ada = await account(db_session, settings)
    post_id = await post(client, ada)
    for path in ["/api/posts", f"/api/posts/{post_id}/comments"]:
        response = await client.post(path, json=payload, headers=ada.headers)
        assert response.status_code == 422, path
        assert response.headers["content-type"] == PROBLEM
    assert await db_session.scalar(select(func.count()).select_from(Post)) == 1


@pytest.mark.parametrize("post_id", ["0", "-1", "x", str(2**63)])
async def test_a_malformed_post_id_is_a_422(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, post_id: str
) -> None:
    ada = await account(db_session, settings)
    assert (await client.get(f"/api/posts/{post_id}", headers=ada.headers)).status_code == 422


async def test_only_the_author_deletes_a_post(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    ada, bob = await accounts(db_session, settings, 2)
    post_id = await post(client, ada)

    refused = await client.delete(f"/api/posts/{post_id}", headers=bob.headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    assert (await client.delete(f"/api/posts/{post_id}", headers=ada.headers)).status_code == 204
    for method, path in [
        ("GET", f"/api/posts/{post_id}"),
        ("DELETE", f"/api/posts/{post_id}"),
        ("PUT", f"/api/posts/{post_id}/like"),
        ("DELETE", f"/api/posts/{post_id}/like"),
        ("GET", f"/api/posts/{post_id}/comments"),
    ]:
        gone = await client.request(method, path, headers=ada.headers)
        assert gone.status_code == 404, (method, path)
    gone = await client.post(
        f"/api/posts/{post_id}/comments", json={"body": "late"}, headers=ada.headers
    )
    assert gone.status_code == 404


async def test_across_a_block_a_post_is_a_404_both_ways(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    ada, bob = await accounts(db_session, settings, 2)
    adas, bobs = await post(client, ada), await post(client, bob)
    await client.put(f"/api/profiles/{bob.username}/block", headers=ada.headers)

    for reader, post_id in [(bob, adas), (ada, bobs)]:
        for method, path in [
            ("GET", f"/api/posts/{post_id}"),
            ("PUT", f"/api/posts/{post_id}/like"),
            ("GET", f"/api/posts/{post_id}/comments"),
        ]:
            response = await client.request(method, path, headers=reader.headers)
            assert response.status_code == 404, (reader.username, method, path)


async def test_a_like_is_counted_once_and_taken_back_once(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    ada, bob = await accounts(db_session, settings, 2)
    post_id = await post(client, ada)
    path = f"/api/posts/{post_id}/like"
    for _ in range(2):
        liked = await client.put(path, headers=bob.headers)
        assert liked.status_code == 200
        assert (liked.json()["like_count"], liked.json()["liked"]) == (1, True)
    seen_by_ada = (await client.get(f"/api/posts/{post_id}", headers=ada.headers)).json()
    assert (seen_by_ada["like_count"], seen_by_ada["liked"]) == (1, False)
    for _ in range(2):
        unliked = await client.delete(path, headers=bob.headers)
        assert (unliked.json()["like_count"], unliked.json()["liked"]) == (0, False)


async def test_concurrent_likes_count_every_user_once(
    committing_client: AsyncClient, committed_session: AsyncSession, settings: Settings
) -> None:
    """Ten users like at once, and one of them ten times more at once: eleven requests
    race on one user's like, and the count is the number of users."""
    author, *likers = await accounts(committed_session, settings, 11)
    post_id = await post(committing_client, author)
    path = f"/api/posts/{post_id}/like"
    answers = await asyncio.gather(
        *(committing_client.put(path, headers=liker.headers) for liker in likers),
        *(committing_client.put(path, headers=likers[0].headers) for _ in range(10)),
    )
    assert {answer.status_code for answer in answers} == {200}

    committed_session.expire_all()
    likes = await committed_session.scalar(
        select(func.count()).select_from(Like).where(Like.post_id == post_id)
    )
    stored = await committed_session.get(Post, post_id)
    assert stored is not None
    assert likes == stored.like_count == 10


async def test_comments_page_oldest_first_with_a_cursor(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    ada, bob = await accounts(db_session, settings, 2)
    post_id = await post(client, ada)
    written = []
    for n in range(5):
        comment = await client.post(
            f"/api/posts/{post_id}/comments", json={"body": f"comment {n}"}, headers=bob.headers
        )
        assert comment.status_code == 201, comment.text
        assert comment.json()["author"]["username"] == bob.username
        written.append(comment.json()["id"])

    seen: list[int] = []
    params: dict[str, str | int] = {"limit": 2}
    for _ in range(5):
        page = await client.get(
            f"/api/posts/{post_id}/comments", params=params, headers=ada.headers
        )
        assert page.status_code == 200, page.text
        seen += [comment["id"] for comment in page.json()["items"]]
        if page.json()["next_cursor"] is None:
            break
        params["cursor"] = page.json()["next_cursor"]
    assert seen == written
    forged = await client.get(
        f"/api/posts/{post_id}/comments", params={"cursor": "%%%"}, headers=ada.headers
    )
    assert forged.status_code == 400

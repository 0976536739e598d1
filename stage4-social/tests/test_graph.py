"""Profiles and the social graph: follow, unfollow, block, mute; followers and following
lists with cursors; unknown users, oneself, and across a block."""

import asyncio

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.pagination import MAX_PAGE_SIZE
from social.config import Settings
from social.models import Follow, User
from tests.factories import account, accounts, follow, post

PROBLEM = "application/problem+json"


async def test_a_profile_shows_counts_and_whether_the_caller_follows(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    ada, bob = await accounts(db_session, settings, 2)
    await follow(client, ada, bob)

    seen_by_ada = (await client.get(f"/api/profiles/{bob.username}", headers=ada.headers)).json()
    assert (seen_by_ada["followers_count"], seen_by_ada["following"]) == (1, True)
    seen_by_bob = (await client.get(f"/api/profiles/{ada.username}", headers=bob.headers)).json()
    assert (seen_by_bob["following_count"], seen_by_bob["following"]) == (1, False)
    upper = await client.get(f"/api/profiles/{bob.username.upper()}", headers=ada.headers)
    assert upper.status_code == 200


async def test_following_and_unfollowing_are_idempotent(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    ada, bob = await accounts(db_session, settings, 2)
    path = f"/api/profiles/{bob.username}/follow"
    for _ in range(2):
        answer = await client.put(path, headers=ada.headers)
        assert answer.status_code == 200
        assert (answer.json()["followers_count"], answer.json()["following"]) == (1, True)
    for _ in range(2):
        answer = await client.delete(path, headers=ada.headers)
        assert answer.status_code == 200
        assert (answer.json()["followers_count"], answer.json()["following"]) == (0, False)


async def test_nobody_follows_blocks_or_mutes_themselves(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    ada = await account(db_session, settings)
    for action in ["follow", "block", "mute"]:
        response = await client.put(f"/api/profiles/{ada.username}/{action}", headers=ada.headers)
        assert response.status_code == 422, action
        assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("GET", ""),
        ("PUT", "/follow"),
        ("DELETE", "/follow"),
        ("PUT", "/block"),
        ("DELETE", "/block"),
        ("PUT", "/mute"),
        ("DELETE", "/mute"),
        ("GET", "/followers"),
        ("GET", "/following"),
    ],
)
async def test_an_unknown_username_is_a_404_and_a_malformed_one_a_422(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, method: str, action: str
) -> None:
    ada = await account(db_session, settings)
    unknown = await client.request(
        method, f"/api/profiles/nobody_here{action}", headers=ada.headers
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM
    malformed = await client.request(method, f"/api/profiles/no%20one{action}", headers=ada.headers)
    assert malformed.status_code == 422


async def test_a_block_ends_both_follows_and_hides_the_blocker(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    ada, bob = await accounts(db_session, settings, 2)
    await follow(client, ada, bob)
    await follow(client, bob, ada)
    post_id = await post(client, ada, "before the block")

    blocked = await client.put(f"/api/profiles/{bob.username}/block", headers=ada.headers)
    assert blocked.status_code == 204
    again = await client.put(f"/api/profiles/{bob.username}/block", headers=ada.headers)
    assert again.status_code == 204

    assert await db_session.scalar(select(func.count()).select_from(Follow)) == 0
    counts = await db_session.scalars(
        select(User.followers_count).where(User.id.in_([ada.id, bob.id]))
    )
    assert list(counts) == [0, 0]
    # Bob cannot follow Ada again, see her profile or read her posts.
    refused = await client.put(f"/api/profiles/{ada.username}/follow", headers=bob.headers)
    assert refused.status_code == 404
    assert (
        await client.get(f"/api/profiles/{ada.username}", headers=bob.headers)
    ).status_code == 404
    assert (await client.get(f"/api/posts/{post_id}", headers=bob.headers)).status_code == 404
    # Ada still sees Bob, but may not follow him while she blocks him.
    assert (
        await client.get(f"/api/profiles/{bob.username}", headers=ada.headers)
    ).status_code == 200
    own_block = await client.put(f"/api/profiles/{bob.username}/follow", headers=ada.headers)
    assert own_block.status_code == 403
    assert own_block.headers["content-type"] == PROBLEM

    assert (
        await client.delete(f"/api/profiles/{bob.username}/block", headers=ada.headers)
    ).status_code == 204
    await follow(client, bob, ada)


async def test_followers_and_following_page_newest_first_with_a_cursor(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    star, *fans = await accounts(db_session, settings, 5)
    for fan in fans:
        await follow(client, fan, star)

    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 2}
    for _ in range(5):
        page = await client.get(
            f"/api/profiles/{star.username}/followers", params=params, headers=star.headers
        )
        assert page.status_code == 200, page.text
        seen += [user["username"] for user in page.json()["items"]]
        if page.json()["next_cursor"] is None:
            break
        params["cursor"] = page.json()["next_cursor"]
    assert seen == [fan.username for fan in reversed(fans)]

    following = await client.get(
        f"/api/profiles/{fans[0].username}/following", headers=star.headers
    )
    assert [user["username"] for user in following.json()["items"]] == [star.username]
    assert following.json()["next_cursor"] is None


@pytest.mark.parametrize(
    "params",
    [{"cursor": "not-a-cursor"}, {"cursor": "eyJpZCI6ICJ4In0"}, {"cursor": "W10"}],
    ids=["garbage", "id-not-a-number", "not-an-object"],
)
async def test_a_forged_cursor_is_a_400(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, params: dict[str, str]
) -> None:
    ada = await account(db_session, settings)
    for path in [f"/api/profiles/{ada.username}/followers", "/api/timeline"]:
        response = await client.get(path, params=params, headers=ada.headers)
        assert response.status_code == 400, path
        assert response.headers["content-type"] == PROBLEM


async def test_a_page_is_never_unbounded(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    ada = await account(db_session, settings)
    for limit in [0, MAX_PAGE_SIZE + 1]:
        response = await client.get(
            f"/api/profiles/{ada.username}/following", params={"limit": limit}, headers=ada.headers
        )
        assert response.status_code == 422


async def test_concurrent_follows_count_once_each(
    committing_client: AsyncClient, committed_session: AsyncSession, settings: Settings
) -> None:
    """Ten requests of one user race each other, and ten users race to follow one: one
    edge per pair, and counts that match the edges."""
    star, eager, *fans = await accounts(committed_session, settings, 12)
    path = f"/api/profiles/{star.username}/follow"
    answers = await asyncio.gather(
        *(committing_client.put(path, headers=eager.headers) for _ in range(10)),
        *(committing_client.put(path, headers=fan.headers) for fan in fans),
    )
    assert {answer.status_code for answer in answers} == {200}

    committed_session.expire_all()
    followers = await committed_session.scalar(
        select(func.count()).select_from(Follow).where(Follow.followee_id == star.id)
    )
    assert followers == 11
    assert (await committed_session.get(User, star.id)).followers_count == 11  # type: ignore[union-attr]
    assert (await committed_session.get(User, eager.id)).following_count == 1  # type: ignore[union-attr]


async def test_a_follow_racing_a_block_never_outlives_it(
    committing_client: AsyncClient, committed_session: AsyncSession, settings: Settings
) -> None:
    """Bob follows Ada while Ada blocks him, again and again: whichever commits first, no
    follow is left beside the block (both take the pair's lock, see graph.repository)."""
    for _ in range(15):
        ada, bob = await accounts(committed_session, settings, 2)
        await asyncio.gather(
            committing_client.put(f"/api/profiles/{ada.username}/follow", headers=bob.headers),
            committing_client.put(f"/api/profiles/{bob.username}/block", headers=ada.headers),
        )
        left = await committed_session.scalar(
            select(func.count())
            .select_from(Follow)
            .where(Follow.follower_id == bob.id, Follow.followee_id == ada.id)
        )
        await committed_session.commit()
        assert left == 0

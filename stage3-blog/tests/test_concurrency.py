"""What two requests could take twice, taken at the same time: the database decides."""

import asyncio

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
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

    assert sorted(r.status_code for r in responses) == [201, 422, 422, 422, 422]
    refused = [r.json() for r in responses if r.status_code == 422]
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

"""Refresh tokens: opaque, stored hashed, rotated on every use, and a used one presented
again (theft) ends the whole session."""

import asyncio
from datetime import timedelta

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.auth.tokens import hash_token
from auth_service.models import LoginSession, RefreshToken
from roadmap_shared.database import utcnow
from roadmap_shared.testing.no_store import assert_no_store
from tests.factories import SignedIn, bearer, login, register, unique_email


async def refresh(client: AsyncClient, token: str) -> Response:
    return await client.post("/auth/refresh", json={"refresh_token": token})


async def test_a_refresh_token_buys_a_new_pair(client: AsyncClient, alice: SignedIn) -> None:
    response = await refresh(client, alice.refresh_token)
    assert response.status_code == 200
    assert_no_store(response)
    pair = response.json()
    assert pair["refresh_token"] != alice.refresh_token
    assert pair["access_token"] != alice.access_token
    me = await client.get("/users/me", headers=bearer(pair["access_token"]))
    assert me.json()["id"] == alice.user.id


async def test_only_a_hash_of_the_refresh_token_is_stored(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    stored = (await db_session.scalars(select(RefreshToken.token_hash))).all()
    assert hash_token(alice.refresh_token) in stored
    assert alice.refresh_token not in stored


async def test_rotation_keeps_the_session_and_uses_up_the_old_token(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    new = (await refresh(client, alice.refresh_token)).json()["refresh_token"]
    tokens = (
        await db_session.scalars(
            select(RefreshToken).where(
                RefreshToken.token_hash.in_([hash_token(alice.refresh_token), hash_token(new)])
            )
        )
    ).all()
    assert len(tokens) == 2
    assert len({token.session_id for token in tokens}) == 1  # one family
    used = {token.token_hash: token.used_at for token in tokens}
    assert used[hash_token(alice.refresh_token)] is not None
    assert used[hash_token(new)] is None


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    # The client rotates; a thief who copied the first token then presents it.
    second = (await refresh(client, alice.refresh_token)).json()
    third = (await refresh(client, second["refresh_token"])).json()

    reuse = await refresh(client, alice.refresh_token)

    assert reuse.status_code == 401
    assert reuse.headers["content-type"] == "application/problem+json"
    assert "already been used" in reuse.json()["detail"]
    # Every token of the family is dead, the newest included, and so are access tokens.
    assert (await refresh(client, third["refresh_token"])).status_code == 401
    for access_token in (alice.access_token, second["access_token"], third["access_token"]):
        assert (await client.get("/users/me", headers=bearer(access_token))).status_code == 401
    session = await db_session.scalar(
        select(LoginSession).where(LoginSession.user_id == alice.user.id)
    )
    assert session is not None
    assert session.revoked_reason == "refresh_token_reused"


async def test_reuse_revokes_only_that_session(
    client: AsyncClient, alice: SignedIn, db_session: AsyncSession
) -> None:
    other_device = (await login(client, alice.email)).json()
    await refresh(client, alice.refresh_token)
    assert (await refresh(client, alice.refresh_token)).status_code == 401
    me = await client.get("/users/me", headers=bearer(other_device["access_token"]))
    assert me.status_code == 200


async def test_an_unknown_refresh_token_is_refused(client: AsyncClient) -> None:
    response = await refresh(client, "x" * 43)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_an_expired_refresh_token_is_refused(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    await db_session.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == hash_token(alice.refresh_token))
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    await db_session.commit()
    assert (await refresh(client, alice.refresh_token)).status_code == 401


async def test_a_session_past_its_absolute_lifetime_cannot_be_refreshed(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    await db_session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == alice.user.id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    await db_session.commit()
    assert (await refresh(client, alice.refresh_token)).status_code == 401
    assert (await client.get("/users/me", headers=alice.headers)).status_code == 401


async def test_a_logged_out_sessions_refresh_token_is_refused(
    client: AsyncClient, alice: SignedIn
) -> None:
    await client.post("/auth/logout", headers=alice.headers)
    assert (await refresh(client, alice.refresh_token)).status_code == 401


async def test_a_malformed_refresh_request_is_a_validation_error(client: AsyncClient) -> None:
    assert (await client.post("/auth/refresh", json={})).status_code == 422
    too_long = await client.post("/auth/refresh", json={"refresh_token": "x" * 101})
    assert too_long.status_code == 422


@pytest.mark.slow
async def test_two_refreshes_racing_with_one_token_cannot_both_win(
    committing_client: AsyncClient,
) -> None:
    email = unique_email()
    await register(committing_client, email)
    pair = (await login(committing_client, email)).json()

    responses = await asyncio.gather(
        *(refresh(committing_client, pair["refresh_token"]) for _ in range(2))
    )

    # The row lock serialises them: one rotates, the other then sees a used token.
    assert sorted(r.status_code for r in responses) == [200, 401]
    [winner] = [r.json() for r in responses if r.status_code == 200]
    # Presenting a used token looked like theft, so the family is gone, winner's pair too.
    assert (await refresh(committing_client, winner["refresh_token"])).status_code == 401

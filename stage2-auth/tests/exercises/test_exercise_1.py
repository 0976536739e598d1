"""Exercise 1 (easy): a grace period for concurrent refreshes.
`make exercise STAGE=stage2-auth N=1`"""

import asyncio
from datetime import timedelta

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.auth.tokens import hash_token
from auth_service.models import LoginSession, RefreshToken
from roadmap_shared.database import utcnow
from tests.factories import SignedIn, bearer, login, register, unique_email

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 1: a refresh token presented again within 10 seconds gets back the pair it "
    "was exchanged for (see the README)"
)
GRACE = timedelta(seconds=10)


async def refresh(client: AsyncClient, token: str) -> Response:
    return await client.post("/auth/refresh", json={"refresh_token": token})


async def session_end(db_session: AsyncSession, signed_in: SignedIn) -> str | None:
    db_session.expire_all()
    return await db_session.scalar(
        select(LoginSession.revoked_reason).where(LoginSession.user_id == signed_in.user.id)
    )


async def test_a_retried_refresh_gets_the_same_refresh_token_back(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    first = await refresh(client, alice.refresh_token)
    assert first.status_code == 200
    retry = await refresh(client, alice.refresh_token)  # the first answer was lost

    assert retry.status_code == 200, f"{TODO}: got {retry.status_code} {retry.text}"
    assert retry.json()["refresh_token"] == first.json()["refresh_token"], (
        f"{TODO}: the same refresh token, so the family stays one chain"
    )
    assert await session_end(db_session, alice) is None
    for answer in (first, retry):
        me = await client.get("/users/me", headers=bearer(answer.json()["access_token"]))
        assert me.status_code == 200
    # The token both answers carry is still good for exactly one rotation.
    assert (await refresh(client, first.json()["refresh_token"])).status_code == 200


async def test_two_refreshes_racing_with_one_token_both_win(
    committing_client: AsyncClient,
) -> None:
    email = unique_email()
    await register(committing_client, email)
    pair = (await login(committing_client, email)).json()

    responses = await asyncio.gather(
        *(refresh(committing_client, pair["refresh_token"]) for _ in range(2))
    )

    assert [r.status_code for r in responses] == [200, 200], TODO
    first, second = (r.json()["refresh_token"] for r in responses)
    assert first == second, f"{TODO}: both racers get the same refresh token"
    assert (await refresh(committing_client, first)).status_code == 200


async def test_a_token_used_longer_ago_than_the_grace_period_ends_the_session(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    assert (await refresh(client, alice.refresh_token)).status_code == 200
    await db_session.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == hash_token(alice.refresh_token))
        .values(used_at=utcnow() - GRACE - timedelta(seconds=1))
    )
    await db_session.commit()

    assert (await refresh(client, alice.refresh_token)).status_code == 401
    assert await session_end(db_session, alice) == "refresh_token_reused"


async def test_a_retry_after_the_new_token_was_used_is_theft(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    # The client has moved on to the next token: whoever presents the old one is not
    # retrying a lost answer, however recent the exchange.
    second = (await refresh(client, alice.refresh_token)).json()
    assert (await refresh(client, second["refresh_token"])).status_code == 200

    assert (await refresh(client, alice.refresh_token)).status_code == 401
    assert await session_end(db_session, alice) == "refresh_token_reused"


async def test_a_retry_after_the_session_ended_is_refused(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    # Signing out ends the session at once: a retry of the refresh just before it is no
    # way back in, however recent.
    answer = (await refresh(client, alice.refresh_token)).json()
    logout = await client.post("/auth/logout", headers=bearer(answer["access_token"]))
    assert logout.status_code == 204

    retry = await refresh(client, alice.refresh_token)
    assert retry.status_code == 401, (
        f"{TODO}: a retry is answered only while the session is live; got {retry.status_code}"
    )

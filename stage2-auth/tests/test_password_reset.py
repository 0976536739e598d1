"""Password reset: a link by email that works once, for a short time, and never says
whether an address has an account."""

import asyncio
from datetime import timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.emails.service import EmailOutbox
from auth_service.models import EmailToken, User
from roadmap_shared.database import utcnow
from tests.factories import (
    RecordingSender,
    SignedIn,
    create_user,
    emails_to,
    login,
    register,
    token_in,
    unique_email,
)

NEW_PASSWORD = "a brand new passphrase for alice"


async def ask_for_reset(client: AsyncClient, email: str) -> Response:
    return await client.post("/auth/password-reset", json={"email": email})


async def reset(client: AsyncClient, token: str, new_password: str = NEW_PASSWORD) -> Response:
    return await client.post(
        "/auth/password-reset/confirm", json={"token": token, "new_password": new_password}
    )


async def reset_token_for(client: AsyncClient, db_session: AsyncSession, email: str) -> str:
    assert (await ask_for_reset(client, email)).status_code == 202
    return token_in((await emails_to(db_session, email))[-1])


async def test_a_reset_link_is_emailed_to_a_known_address(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    response = await ask_for_reset(client, alice.email.upper())
    assert response.status_code == 202
    [email] = await emails_to(db_session, alice.email)
    assert email.subject == "Reset your password"
    assert "http://127.0.0.1:8000/reset-password#token=" in email.body


async def test_an_unknown_address_gets_the_same_answer_and_no_email(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    known = await ask_for_reset(client, alice.email)
    unknown = await ask_for_reset(client, "nobody@example.com")
    assert unknown.status_code == known.status_code == 202
    assert unknown.json() == known.json()
    assert await emails_to(db_session, "nobody@example.com") == []


async def test_a_deactivated_account_gets_no_reset_email(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    user = await create_user(db_session, active=False)
    assert (await ask_for_reset(client, user.email)).status_code == 202
    assert await emails_to(db_session, user.email) == []


async def test_the_link_sets_a_new_password_and_ends_every_session(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    token = await reset_token_for(client, db_session, alice.email)
    assert (await reset(client, token)).status_code == 204
    assert (await client.get("/users/me", headers=alice.headers)).status_code == 401
    refresh = await client.post("/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert refresh.status_code == 401
    assert (await login(client, alice.email)).status_code == 401
    assert (await login(client, alice.email, NEW_PASSWORD)).status_code == 200


async def test_resetting_also_verifies_the_email_address(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    await reset(client, await reset_token_for(client, db_session, alice.email))
    verified = await db_session.scalar(
        select(User.email_verified_at).where(User.id == alice.user.id)
    )
    assert verified is not None


async def test_the_link_works_only_once(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    token = await reset_token_for(client, db_session, alice.email)
    assert (await reset(client, token)).status_code == 204
    again = await reset(client, token, "yet another passphrase, third one")
    assert again.status_code == 400
    assert again.json()["detail"] == "This link is invalid, has expired or has already been used."


async def test_an_expired_link_is_refused(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    token = await reset_token_for(client, db_session, alice.email)
    await db_session.execute(update(EmailToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    await db_session.commit()
    assert (await reset(client, token)).status_code == 400


async def test_a_newer_link_replaces_an_older_one(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    first = await reset_token_for(client, db_session, alice.email)
    second = await reset_token_for(client, db_session, alice.email)
    assert (await reset(client, first)).status_code == 400
    assert (await reset(client, second)).status_code == 204


async def test_a_weak_new_password_is_refused_and_the_link_still_works(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    token = await reset_token_for(client, db_session, alice.email)
    weak = await reset(client, token, "qwertyuiopasdfgh")
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["loc"] == ["body", "new_password"]
    assert (await reset(client, token)).status_code == 204


async def test_a_password_change_cancels_outstanding_reset_links(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    token = await reset_token_for(client, db_session, alice.email)
    changed = await client.post(
        "/auth/change-password",
        headers=alice.headers,
        json={"current_password": alice.password, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200
    assert (await reset(client, token, "the attacker's own passphrase")).status_code == 400


async def test_only_a_hash_of_the_reset_token_is_stored(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    token = await reset_token_for(client, db_session, alice.email)
    stored = (await db_session.scalars(select(EmailToken.token_hash))).all()
    assert stored
    assert token not in stored


async def test_reset_emails_are_limited_per_account(client: AsyncClient, alice: SignedIn) -> None:
    statuses = [(await ask_for_reset(client, alice.email)).status_code for _ in range(4)]
    assert statuses == [202, 202, 202, 429]


async def test_reset_requests_are_limited_per_client_address(client: AsyncClient) -> None:
    # Each address has its own limit; this one stops a client from making us email
    # thousands of strangers, one address at a time.
    statuses = [
        (await ask_for_reset(client, f"stranger-{n}@example.com")).status_code for n in range(21)
    ]
    assert statuses == [202] * 20 + [429]


async def test_a_made_up_token_is_refused(client: AsyncClient) -> None:
    assert (await reset(client, "made-up-token")).status_code == 400


@pytest.mark.slow
async def test_two_resets_racing_with_one_link_cannot_both_succeed(
    app: FastAPI, committing_client: AsyncClient
) -> None:
    sender = RecordingSender()
    app.state.email_outbox = EmailOutbox(app.state.database, sender)
    email = unique_email()
    await register(committing_client, email)
    await ask_for_reset(committing_client, email)
    await app.state.email_outbox.wait_for_deliveries()
    token = token_in(sender.sent[-1])

    responses = await asyncio.gather(
        reset(committing_client, token, "first racer's long passphrase"),
        reset(committing_client, token, "second racer's long passphrase"),
    )

    assert sorted(r.status_code for r in responses) == [204, 400]

"""Email verification: registration sends a link; it works once; users may ask again."""

from datetime import timedelta

from httpx import AsyncClient, Response
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.models import EmailToken
from roadmap_shared.database import utcnow
from tests.factories import SignedIn, bearer, emails_to, login, register, token_in, unique_email


async def confirm(client: AsyncClient, token: str) -> Response:
    return await client.post("/auth/verify-email/confirm", json={"token": token})


async def registered(client: AsyncClient, db_session: AsyncSession) -> tuple[str, str]:
    """A new account's address and the token from its verification email."""
    email = unique_email()
    await register(client, email)
    [sent] = await emails_to(db_session, email)
    return email, token_in(sent)


async def test_the_link_from_the_registration_email_verifies_the_address(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    email, token = await registered(client, db_session)
    assert (await confirm(client, token)).status_code == 204
    access_token = (await login(client, email)).json()["access_token"]
    me = (await client.get("/users/me", headers=bearer(access_token))).json()
    assert me["email_verified_at"] is not None


async def test_the_link_works_only_once(client: AsyncClient, db_session: AsyncSession) -> None:
    _, token = await registered(client, db_session)
    assert (await confirm(client, token)).status_code == 204
    assert (await confirm(client, token)).status_code == 400


async def test_an_expired_link_is_refused(client: AsyncClient, db_session: AsyncSession) -> None:
    _, token = await registered(client, db_session)
    await db_session.execute(update(EmailToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    await db_session.commit()
    assert (await confirm(client, token)).status_code == 400


async def test_a_reset_link_does_not_verify_an_address(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    # Tokens have a purpose: one for a password reset is refused here.
    await client.post("/auth/password-reset", json={"email": alice.email})
    [reset_email] = await emails_to(db_session, alice.email)
    assert (await confirm(client, token_in(reset_email))).status_code == 400


async def test_a_user_can_ask_for_a_new_link_which_replaces_the_old(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    first = await client.post("/auth/verify-email", headers=alice.headers)
    assert first.status_code == 202
    second = await client.post("/auth/verify-email", headers=alice.headers)
    assert second.status_code == 202
    old, new = (token_in(email) for email in await emails_to(db_session, alice.email))
    assert (await confirm(client, old)).status_code == 400
    assert (await confirm(client, new)).status_code == 204


async def test_a_verified_address_needs_no_new_link(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    await client.post("/auth/verify-email", headers=alice.headers)
    [email] = await emails_to(db_session, alice.email)
    await confirm(client, token_in(email))
    again = await client.post("/auth/verify-email", headers=alice.headers)
    assert again.status_code == 409


async def test_verification_emails_are_limited_per_account(
    client: AsyncClient, alice: SignedIn
) -> None:
    statuses = [
        (await client.post("/auth/verify-email", headers=alice.headers)).status_code
        for _ in range(4)
    ]
    assert statuses == [202, 202, 202, 429]

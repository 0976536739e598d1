"""Registration: a normalised, unique email, a password policy, and a 409 for a taken
address that costs as much as a successful registration."""

import asyncio

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.auth import service as auth_service
from auth_service.models import User
from roadmap_shared.security.passwords import hash_password
from tests.factories import (
    PASSWORD,
    QueryCounter,
    emails_to,
    login,
    register,
    token_in,
    unique_email,
)


async def test_registering_creates_an_unverified_user(client: AsyncClient) -> None:
    email = unique_email("ada")
    response = await register(client, email)
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == email
    assert body["display_name"] == "New"
    assert body["role"] == "user"
    assert body["is_active"] is True
    assert body["email_verified_at"] is None
    assert "password" not in str(body)


async def test_the_password_is_stored_as_an_argon2id_hash(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    email = unique_email()
    await register(client, email)
    stored = await db_session.scalar(select(User.password_hash).where(User.email == email))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


async def test_the_email_is_trimmed_and_lower_cased(client: AsyncClient) -> None:
    response = await register(client, "  Ada.Lovelace@Example.COM ")
    assert response.status_code == 201
    assert response.json()["email"] == "ada.lovelace@example.com"
    assert (await login(client, "ADA.LOVELACE@example.com")).status_code == 200


async def test_a_taken_email_in_another_case_is_a_conflict(client: AsyncClient) -> None:
    await register(client, "grace@example.com")
    response = await register(client, "Grace@EXAMPLE.com")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "An account with this email address already exists."


async def test_a_taken_email_costs_a_password_hash_like_a_free_one(
    client: AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    query_counter: QueryCounter,
) -> None:
    # The timing defence, tested as behaviour: the conflict path does the expensive work
    # (hashing) and the same INSERT as the success path, with no cheap lookup first.
    await register(client, "taken@example.com")
    hashed: list[str] = []

    async def counting_hash(password: str) -> str:
        hashed.append(password)
        return await hash_password(password)

    monkeypatch.setattr(auth_service, "hash_password", counting_hash)
    with query_counter() as queries:
        response = await register(client, "taken@example.com", password="another long passphrase")
    assert response.status_code == 409
    assert hashed == ["another long passphrase"]
    user_queries = [q for q in queries.statements if "users" in q]
    assert len(user_queries) == 1, str(queries)
    assert user_queries[0].startswith("INSERT INTO users")


async def test_an_invalid_email_is_a_validation_error(client: AsyncClient) -> None:
    response = await register(client, "not-an-email")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "email"]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass", "Use at least 15 characters."),
        ("x" * 129, "at most 128 characters"),
        ("correct horse battery staple", "one of the most common passwords"),
        ("PasswordPassword", "one of the most common passwords"),
        ("my name is ada.lovelace, hi!", "Do not use your email address"),
    ],
)
async def test_a_password_breaking_the_policy_is_refused(
    client: AsyncClient, password: str, message: str
) -> None:
    response = await register(client, "ada.lovelace@example.com", password=password)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors[0]["loc"] == ["body", "password"]
    assert any(message in error["msg"] for error in errors), errors


async def test_unknown_fields_are_refused(client: AsyncClient) -> None:
    response = await client.post(
        "/auth/register",
        json={"email": unique_email(), "password": PASSWORD, "display_name": "X", "role": "admin"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "role"]


async def test_registering_sends_a_verification_email(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    email = unique_email()
    await register(client, email)
    [sent] = await emails_to(db_session, email)
    assert sent.subject == "Confirm your email address"
    assert len(token_in(sent)) == 43


async def test_registrations_are_limited_per_client_address(client: AsyncClient) -> None:
    for _ in range(20):
        assert (await register(client)).status_code == 201
    response = await register(client)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "RateLimit" in response.headers


@pytest.mark.slow
async def test_concurrent_registrations_of_one_email_create_one_account(
    committing_client: AsyncClient, db_session: AsyncSession
) -> None:
    email = unique_email("race")
    responses = await asyncio.gather(*(register(committing_client, email) for _ in range(5)))
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    users = await db_session.scalars(select(User).where(User.email == email))
    assert len(users.all()) == 1

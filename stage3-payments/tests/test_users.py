"""Accounts, kept minimal: sign up, sign in, who am I."""

from fastapi import FastAPI
from httpx import AsyncClient

from billing.config import Settings
from tests.factories import PASSWORD, signed_in, unique_email


async def test_an_address_signs_up_once(client: AsyncClient) -> None:
    email = unique_email()
    await signed_in(client, email)
    again = await client.post(
        "/users", json={"email": email.upper(), "name": "Twin", "password": PASSWORD}
    )
    assert again.status_code == 409


async def test_a_wrong_password_and_an_unknown_address_look_the_same(client: AsyncClient) -> None:
    email = unique_email()
    await signed_in(client, email)
    wrong = await client.post("/users/login", json={"email": email, "password": "not it at all"})
    unknown = await client.post(
        "/users/login", json={"email": unique_email(), "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_password_guesses_on_one_account_stop_at_its_limit(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    email = unique_email()
    await signed_in(client, email)
    app.state.settings = settings.model_copy(update={"logins_per_minute_per_account": 2})
    guess = {"email": email, "password": "not it at all"}

    statuses = [(await client.post("/users/login", json=guess)).status_code for _ in range(3)]
    # Another spelling of the same address is the same account.
    respelled = await client.post("/users/login", json={**guess, "email": email.upper()})

    assert statuses == [401, 401, 429]
    assert respelled.status_code == 429
    assert respelled.headers["RateLimit-Policy"].startswith('"login-account";')


async def test_a_bad_token_is_401(client: AsyncClient) -> None:
    response = await client.get("/users/me", headers={"Authorization": "Bearer not-a-jwt"})
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers

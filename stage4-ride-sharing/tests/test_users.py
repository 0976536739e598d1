"""Accounts with a role: a rider and a driver sign up, sign in, and stay in their lane."""

import pytest
from httpx import AsyncClient

from tests.factories import PASSWORD, signed_in, unique_email


async def test_an_address_signs_up_once(client: AsyncClient) -> None:
    email = unique_email()
    body = {"email": email, "name": "A", "password": PASSWORD, "role": "rider"}
    assert (await client.post("/users", json=body)).status_code == 201
    again = await client.post("/users", json={**body, "email": email.upper(), "role": "driver"})
    assert again.status_code == 409


async def test_a_role_is_required_and_must_be_known(client: AsyncClient) -> None:
    body = {"email": unique_email(), "name": "A", "password": PASSWORD}
    assert (await client.post("/users", json=body)).status_code == 422
    assert (await client.post("/users", json={**body, "role": "admin"})).status_code == 422


async def test_me_says_the_role(client: AsyncClient) -> None:
    driver = await signed_in(client, "driver")
    assert (await client.get("/users/me", headers=driver)).json()["role"] == "driver"


async def test_a_wrong_password_is_401(client: AsyncClient) -> None:
    email = unique_email()
    body = {"email": email, "name": "A", "password": PASSWORD, "role": "rider"}
    await client.post("/users", json=body)
    wrong = await client.post("/users/login", json={"email": email, "password": "not it at all"})
    assert wrong.status_code == 401


@pytest.mark.parametrize("role", ["rider", "driver"])
async def test_a_signed_in_user_gets_a_socket_ticket(client: AsyncClient, role: str) -> None:
    """Which socket it opens is the account's role: a driver's, the driver socket."""
    assert (await client.post("/users/me/socket-ticket")).status_code == 401
    user = await signed_in(client, role)
    response = await client.post("/users/me/socket-ticket", headers=user)
    assert response.status_code == 200
    assert response.json()["expires_in"] == 60


async def test_a_socket_ticket_does_not_open_the_http_api(client: AsyncClient) -> None:
    driver = await signed_in(client, "driver")
    issued = (await client.post("/users/me/socket-ticket", headers=driver)).json()["ticket"]
    response = await client.get("/users/me", headers={"Authorization": f"Bearer {issued}"})
    assert response.status_code == 401

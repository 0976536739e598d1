"""Accounts: sign-up, sign-in, the signed-in user; bad input and bad tokens."""

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from social.config import Settings
from social.models import User
from tests.factories import PASSWORD, account, unique_username

PROBLEM = "application/problem+json"


def sign_up(username: str, **changes: str) -> dict[str, str]:
    return {
        "username": username,
        "email": f"{username}@example.com",
        "display_name": "Ada",
        "password": PASSWORD,
        **changes,
    }


async def test_a_new_account_signs_in_and_reads_itself(client: AsyncClient) -> None:
    name = unique_username("Ada")
    created = await client.post("/api/users", json=sign_up(name, bio="Engines"))
    assert created.status_code == 201, created.text
    assert created.json()["username"] == name.lower()
    assert "password" not in created.text

    login = await client.post(
        "/api/users/login", json={"email": f"{name}@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    me = await client.get("/api/users/me", headers=headers)
    assert me.json()["username"] == name.lower()
    assert me.json()["bio"] == "Engines"
    assert "no-store" in me.headers["cache-control"]


async def test_a_taken_username_or_email_is_a_conflict_whatever_its_case(
    client: AsyncClient,
) -> None:
    name = unique_username()
    assert (await client.post("/api/users", json=sign_up(name))).status_code == 201
    again = await client.post(
        "/api/users", json=sign_up(name.upper(), email=f"other-{name}@example.com")
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    same_email = await client.post(
        "/api/users", json=sign_up(unique_username(), email=f"{name.upper()}@example.com")
    )
    assert same_email.status_code == 409


@pytest.mark.parametrize(
    "changes",
    [
        {"username": "a"},
        {"username": "has space"},
        {"username": "x" * 31},
        {"email": "not-an-address"},
        {"password": "short"},
        {"display_name": ""},
        {"display_name": "nul\x00"},
        {"bio": "x" * 501},
    ],
    ids=lambda changes: next(iter(changes)),
)
async def test_bad_sign_up_input_is_a_422_problem(
    client: AsyncClient, changes: dict[str, str]
) -> None:
    response = await client.post("/api/users", json=sign_up(unique_username()) | changes)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"]


async def test_a_wrong_password_and_an_unknown_address_are_the_same_401(
    client: AsyncClient,
) -> None:
    name = unique_username()
    await client.post("/api/users", json=sign_up(name))
    wrong = await client.post(
        "/api/users/login", json={"email": f"{name}@example.com", "password": "not the one"}
    )
    unknown = await client.post(
        "/api/users/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}],
    ids=["none", "garbage", "basic"],
)
async def test_without_a_valid_token_every_endpoint_is_a_401(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    for method, path in [
        ("GET", "/api/users/me"),
        ("GET", "/api/profiles/someone"),
        ("PUT", "/api/profiles/someone/follow"),
        ("DELETE", "/api/profiles/someone/follow"),
        ("PUT", "/api/profiles/someone/block"),
        ("PUT", "/api/profiles/someone/mute"),
        ("GET", "/api/profiles/someone/followers"),
        ("GET", "/api/profiles/someone/following"),
        ("POST", "/api/posts"),
        ("GET", "/api/posts/1"),
        ("DELETE", "/api/posts/1"),
        ("PUT", "/api/posts/1/like"),
        ("DELETE", "/api/posts/1/like"),
        ("GET", "/api/posts/1/comments"),
        ("POST", "/api/posts/1/comments"),
        ("GET", "/api/timeline"),
    ]:
        body = {"body": "x"} if method == "POST" else None
        response = await client.request(method, path, headers=headers, json=body)
        assert response.status_code == 401, (method, path)
        assert response.headers["content-type"] == PROBLEM


async def test_a_token_of_a_deleted_account_is_a_401(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    gone = await account(db_session, settings)
    user = await db_session.get(User, gone.id)
    await db_session.delete(user)
    await db_session.commit()
    assert (await client.get("/api/users/me", headers=gone.headers)).status_code == 401

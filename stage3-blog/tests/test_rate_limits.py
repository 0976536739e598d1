"""Rate limits: writes per user, logins per account and per address, registrations per
address. Concurrent requests cannot take more than the limit (one Lua script in Redis)."""

import asyncio

import pytest
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
from tests.conftest import make_settings
from tests.factories import auth, make_user

PROBLEM = "application/problem+json"


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(
        database_url,
        redis_url,
        writes_per_minute=5,
        logins_per_minute_per_account=3,
        logins_per_minute_per_address=6,
        registrations_per_hour_per_address=2,
    )


def statuses(responses: list[Response]) -> list[int]:
    return sorted(response.status_code for response in responses)


def assert_refused_politely(response: Response, policy: str) -> None:
    assert response.status_code == 429
    # 429 is not a status the spec defines: it stays a problem, even under /api.
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["RateLimit"].startswith(f'"{policy}";r=0;')
    assert response.headers["RateLimit-Policy"].startswith(f'"{policy}";')


async def test_a_successful_write_tells_how_many_are_left(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)

    response = await client.post(
        f"/api/profiles/{(await make_user(db_session)).username}/follow",
        headers=auth(settings, user),
    )

    assert response.status_code == 200
    assert response.headers["RateLimit-Policy"] == '"writes";q=5;w=60'
    assert response.headers["RateLimit"].startswith('"writes";r=4;')


@pytest.mark.slow
async def test_concurrent_writes_by_one_user_stop_at_the_limit(
    committing_client: AsyncClient, committed_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(committed_session)
    headers = auth(settings, author)
    article = {"article": {"title": "Spam", "description": "d", "body": "b"}}

    responses = await asyncio.gather(
        *(committing_client.post("/api/articles", json=article, headers=headers) for _ in range(12))
    )

    assert statuses(responses) == [201] * 5 + [429] * 7
    assert_refused_politely(next(r for r in responses if r.status_code == 429), "writes")


@pytest.mark.slow
async def test_concurrent_password_guesses_on_one_account_stop_at_the_limit(
    committing_client: AsyncClient, committed_session: AsyncSession
) -> None:
    victim = await make_user(committed_session)
    guess = {"user": {"email": victim.email, "password": "guess-guess"}}

    responses = await asyncio.gather(
        *(committing_client.post("/api/users/login", json=guess) for _ in range(8))
    )

    # Three guesses reach the password check. The address limit (6) refuses the last two
    # as well, so look for the account's refusal among the 429s.
    assert statuses(responses) == [401] * 3 + [429] * 5
    refused = [r for r in responses if r.status_code == 429]
    by_account = [r for r in refused if r.headers["RateLimit"].startswith('"login-account"')]
    assert len(by_account) == 3
    assert_refused_politely(by_account[0], "login-account")


@pytest.mark.slow
async def test_one_address_trying_many_accounts_stops_at_the_limit(
    committing_client: AsyncClient,
) -> None:
    responses = await asyncio.gather(
        *(
            committing_client.post(
                "/api/users/login",
                json={"user": {"email": f"person{n}@example.com", "password": "guess-guess"}},
            )
            for n in range(10)
        )
    )

    assert statuses(responses) == [401] * 6 + [429] * 4
    assert_refused_politely(next(r for r in responses if r.status_code == 429), "login-address")


async def test_registrations_from_one_address_are_limited(client: AsyncClient) -> None:
    def registration(n: int) -> dict[str, object]:
        return {"user": {"username": f"u{n}", "email": f"u{n}@example.com", "password": "p" * 8}}

    responses = [await client.post("/api/users", json=registration(n)) for n in range(3)]

    assert [r.status_code for r in responses] == [201, 201, 429]
    assert_refused_politely(responses[-1], "registration")

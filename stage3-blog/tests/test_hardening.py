"""Hostile or unusual input at sign-in and in tokens, handled as in the other stages."""

import pytest
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
from roadmap_shared.security.tokens import INTEGER_MAX
from roadmap_shared.testing.hostile_input import (
    access_token,
    assert_not_utf8_header_is_answered,
    forged_subjects,
    headers_not_utf8,
)
from roadmap_shared.testing.no_store import assert_may_be_stored, assert_none_stored
from roadmap_shared.testing.sign_in import (
    assert_accounts_keyed_by_hash,
    assert_sign_in_upgrades_outdated_hash,
)
from tests.conftest import make_settings
from tests.factories import PASSWORD, auth, make_user


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    # Limits low enough that a rate-limit key lives for seconds, long enough to be read.
    return make_settings(
        database_url, redis_url, logins_per_minute_per_account=3, logins_per_minute_per_address=6
    )


@forged_subjects(largest_user_id=INTEGER_MAX)
@pytest.mark.parametrize("path", ["/api/user", "/api/articles"])
async def test_a_signed_token_whose_subject_is_not_a_user_id_is_refused(
    client: AsyncClient, settings: Settings, subject: str, path: str
) -> None:
    token = access_token(settings.token_codec(), subject)

    response = await client.get(path, headers={"Authorization": f"Token {token}"})

    assert response.status_code == 401
    assert response.json() == {"errors": {"token": ["is invalid or expired"]}}


@pytest.mark.parametrize(
    "path",
    [
        "/api/user",
        "/api/articles",
        "/api/articles?tag=dragons",
        "/api/articles/feed",
        "/api/profiles/someone",
    ],
)
async def test_the_token_of_an_account_deleted_since_is_refused(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, path: str
) -> None:
    # Reads check only that the account exists (`get_viewer_id`, or in the statement of the
    # article list and the feed); the rest load it.
    user = await make_user(db_session)
    headers = auth(settings, user)
    await db_session.delete(user)
    await db_session.commit()

    response = await client.get(path, headers=headers)

    assert response.status_code == 401
    assert response.json() == {"errors": {"token": ["is invalid or expired"]}}


async def test_signing_in_upgrades_a_hash_made_with_older_parameters(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    user = await make_user(db_session)
    await assert_sign_in_upgrades_outdated_hash(
        db_session,
        user,
        PASSWORD,
        lambda: client.post(
            "/api/users/login", json={"user": {"email": user.email, "password": PASSWORD}}
        ),
    )


async def test_rate_limit_keys_in_redis_never_hold_an_email_address(
    client: AsyncClient, redis_client: Redis, settings: Settings
) -> None:
    email = "Someone.Private@Example.com"
    await client.post(
        "/api/users/login", json={"user": {"email": email, "password": "not the password"}}
    )

    await assert_accounts_keyed_by_hash(
        redis_client,
        email,
        secret=settings.rate_limit_key_secret,
        key="conduit:ratelimit:login-account:{hashed}",
    )


async def test_responses_with_tokens_or_personal_data_are_never_stored(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)
    registration = {"username": "jake", "email": "jake@jake.jake", "password": "jakejakejake"}
    responses = {
        "register": await client.post("/api/users", json={"user": registration}),
        "login": await client.post(
            "/api/users/login", json={"user": {"email": user.email, "password": PASSWORD}}
        ),
        "current user": await client.get("/api/user", headers=auth(settings, user)),
        "feed": await client.get("/api/articles/feed", headers=auth(settings, user)),
        "articles, signed in": await client.get("/api/articles", headers=auth(settings, user)),
        "profile, signed in": await client.get(
            f"/api/profiles/{user.username}", headers=auth(settings, user)
        ),
    }
    assert_none_stored(responses)
    # Anonymous reads may be stored.
    assert_may_be_stored(await client.get("/api/articles"))


@headers_not_utf8("/healthz", "/api/articles", "/api/user", "/api/tags")
async def test_header_bytes_that_are_not_utf8_get_a_normal_answer(
    client: AsyncClient, path: str, header: bytes
) -> None:
    await assert_not_utf8_header_is_answered(client, path, header)

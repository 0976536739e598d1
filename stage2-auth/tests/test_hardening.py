"""Sign-in details shared with the other stages: outdated password hashes are upgraded,
and rate-limit keys hold no email address."""

from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.config import Settings
from auth_service.models import User
from roadmap_shared.ratelimit import account_key
from roadmap_shared.testing.hostile_input import (
    assert_not_utf8_header_is_answered,
    headers_not_utf8,
)
from roadmap_shared.testing.no_store import assert_may_be_stored, assert_no_store
from roadmap_shared.testing.sign_in import (
    assert_password_hash_upgraded,
    outdated_password_hash,
    redis_keys_without,
)
from tests.factories import PASSWORD, SignedIn, bearer, create_user, login, register


async def test_signing_in_upgrades_a_hash_made_with_older_parameters(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    user = await create_user(db_session)
    outdated = outdated_password_hash(PASSWORD)
    await db_session.execute(update(User).where(User.id == user.id).values(password_hash=outdated))

    assert (await login(client, user.email)).status_code == 200

    stored = await db_session.scalar(select(User.password_hash).where(User.id == user.id))
    await assert_password_hash_upgraded(stored, outdated, PASSWORD)


async def test_rate_limit_keys_in_redis_never_hold_an_email_address(
    client: AsyncClient, redis_client: Redis, settings: Settings
) -> None:
    email = "Someone.Private@Example.com"
    await login(client, email, "not the right passphrase")
    await client.post("/auth/password-reset", json={"email": email})

    keys = await redis_keys_without(redis_client, email)
    hashed = account_key(email, secret=settings.rate_limit_key_secret)
    assert f"auth:ratelimit:login-account:{hashed}" in keys


async def test_responses_with_tokens_or_personal_data_are_never_stored(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    user = await create_user(db_session)
    responses = {
        "register": await register(client),
        "login": await login(client, user.email),
        "refresh": await client.post("/auth/refresh", json={"refresh_token": alice.refresh_token}),
        "me": await client.get("/users/me", headers=alice.headers),
        "tasks": await client.get("/tasks", headers=alice.headers),
        "bad token": await client.get("/users/me", headers=bearer("not-a-jwt")),
    }
    for name, response in responses.items():
        assert response.status_code < 500, name
        assert_no_store(response)
    # Public responses may be stored.
    assert_may_be_stored(await client.get("/healthz"))


@headers_not_utf8("/healthz", "/users/me", "/tasks")
async def test_header_bytes_that_are_not_utf8_get_a_normal_answer(
    client: AsyncClient, path: str, header: bytes
) -> None:
    await assert_not_utf8_header_is_answered(client, path, header)

"""Hardening every stage shares, checked on the shop's own routes: outdated password hashes
are upgraded, rate-limit keys hold no email address, personal responses are never stored,
and header bytes that are not UTF-8 get an answer. (The checks: `roadmap_shared.testing`.)"""

from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.testing.hostile_input import (
    assert_not_utf8_header_is_answered,
    headers_not_utf8,
)
from roadmap_shared.testing.no_store import assert_may_be_stored, assert_none_stored
from roadmap_shared.testing.sign_in import (
    assert_accounts_keyed_by_hash,
    assert_sign_in_upgrades_outdated_hash,
)
from shop.config import Settings
from tests.factories import PASSWORD, auth, make_user


async def test_signing_in_upgrades_a_hash_made_with_older_parameters(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    user = await make_user(db_session)
    await assert_sign_in_upgrades_outdated_hash(
        db_session,
        user,
        PASSWORD,
        lambda: client.post("/auth/login", json={"email": user.email, "password": PASSWORD}),
    )


async def test_rate_limit_keys_in_redis_never_hold_an_email_address(
    client: AsyncClient, redis_client: Redis, settings: Settings
) -> None:
    email = "Someone.Private@Example.com"
    await client.post("/auth/login", json={"email": email, "password": "not the password"})

    await assert_accounts_keyed_by_hash(
        redis_client,
        email,
        secret=settings.rate_limit_key_secret,
        key=f"{settings.cache_namespace}:ratelimit:login:{{hashed}}",
    )


async def test_responses_with_tokens_or_personal_data_are_never_stored(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)
    registration = {"email": "grace@example.com", "name": "Grace", "password": PASSWORD}
    responses = {
        "register": await client.post("/auth/register", json=registration),
        "login": await client.post("/auth/login", json={"email": user.email, "password": PASSWORD}),
        "me": await client.get("/auth/me", headers=auth(settings, user)),
        "cart": await client.get("/cart", headers=auth(settings, user)),
        "orders": await client.get("/orders", headers=auth(settings, user)),
        "catalogue, signed in": await client.get("/products", headers=auth(settings, user)),
    }
    assert_none_stored(responses)
    # The public catalogue may be stored.
    assert_may_be_stored(await client.get("/products"))


@headers_not_utf8("/healthz", "/products", "/auth/me", "/cart")
async def test_header_bytes_that_are_not_utf8_get_a_normal_answer(
    client: AsyncClient, path: str, header: bytes
) -> None:
    await assert_not_utf8_header_is_answered(client, path, header)

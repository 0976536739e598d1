"""Exercise 3 (hard): stateless verification for other services.
`make exercise STAGE=stage2-auth N=3`

The verifier is `auth_service.verifier.TokenVerifier(codec, redis)`: `await
verifier.verify(token)` returns the token's `AccessClaims`, raises `InvalidToken` for a
bad token or an ended session, and `RevocationsUnavailable` (from the same module) when
Redis cannot say whether the session has ended.
"""

import importlib
from collections.abc import Awaitable, Callable
from types import ModuleType

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.auth.tokens import read_access_token
from auth_service.config import Settings
from auth_service.main import create_app
from roadmap_shared.security.tokens import InvalidToken
from tests.factories import QueryCounter, SignedIn, emails_to, token_in

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 3: publish ended sessions to Redis (revoked:<sid>) and verify tokens with "
    "auth_service.verifier.TokenVerifier, without the database (see the README)"
)
NOBODY_LISTENS = "redis://127.0.0.1:1/0"
NEW_PASSWORD = "a different long passphrase"


def verifier_module() -> ModuleType:
    try:
        return importlib.import_module("auth_service.verifier")
    except ModuleNotFoundError as exc:
        if exc.name != "auth_service.verifier":
            raise
        pytest.fail(f"{TODO}: there is no auth_service/verifier.py yet")


@pytest.fixture
def app(settings: Settings, redis_client: Redis, request: pytest.FixtureRequest) -> FastAPI:
    # `redis_client` empties the suite's Redis database first; a test may ask for an app
    # whose Redis is down (`indirect` parametrisation).
    redis_url = getattr(request, "param", settings.redis_url)
    return create_app(settings.model_copy(update={"redis_url": redis_url}))


async def test_a_live_token_is_accepted_without_the_database(
    settings: Settings, redis_client: Redis, alice: SignedIn, query_counter: QueryCounter
) -> None:
    verifier = verifier_module().TokenVerifier(settings.token_codec(), redis_client)
    with query_counter() as queries:
        claims = await verifier.verify(alice.access_token)
    assert claims.user_id == alice.user.id
    assert queries.count == 0, str(queries)


async def log_out(client: AsyncClient, alice: SignedIn, _: SignedIn) -> None:
    assert (await client.post("/auth/logout", headers=alice.headers)).status_code == 204


async def log_out_everywhere(client: AsyncClient, alice: SignedIn, _: SignedIn) -> None:
    assert (await client.post("/auth/logout-all", headers=alice.headers)).status_code == 204


async def change_password(client: AsyncClient, alice: SignedIn, _: SignedIn) -> None:
    body = {"current_password": alice.password, "new_password": NEW_PASSWORD}
    response = await client.post("/auth/change-password", json=body, headers=alice.headers)
    assert response.status_code == 200


async def deactivate(client: AsyncClient, alice: SignedIn, admin: SignedIn) -> None:
    response = await client.post(f"/users/{alice.user.id}/deactivate", headers=admin.headers)
    assert response.status_code == 200


async def reuse_a_refresh_token(client: AsyncClient, alice: SignedIn, _: SignedIn) -> None:
    second = await client.post("/auth/refresh", json={"refresh_token": alice.refresh_token})
    newer = {"refresh_token": second.json()["refresh_token"]}
    assert (await client.post("/auth/refresh", json=newer)).status_code == 200
    # The first token again, after the client moved on twice: theft, the session ends.
    reuse = await client.post("/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert reuse.status_code == 401


Ending = Callable[[AsyncClient, SignedIn, SignedIn], Awaitable[None]]


@pytest.mark.parametrize(
    "end_session", [log_out, log_out_everywhere, change_password, deactivate, reuse_a_refresh_token]
)
async def test_every_way_a_session_ends_reaches_the_verifier(
    *,
    client: AsyncClient,
    settings: Settings,
    redis_client: Redis,
    alice: SignedIn,
    admin: SignedIn,
    end_session: Ending,
) -> None:
    verifier = verifier_module().TokenVerifier(settings.token_codec(), redis_client)
    await verifier.verify(alice.access_token)
    session_id = read_access_token(settings.token_codec(), alice.access_token).session_id

    await end_session(client, alice, admin)

    lifetime = settings.access_token_minutes * 60
    ttl = await redis_client.ttl(f"revoked:{session_id}")
    assert 0 < ttl <= lifetime, f"{TODO}: revoked:{session_id} has TTL {ttl}, not 1..{lifetime}"
    with pytest.raises(InvalidToken):
        await verifier.verify(alice.access_token)


async def test_a_password_reset_reaches_the_verifier(
    client: AsyncClient,
    db_session: AsyncSession,
    settings: Settings,
    redis_client: Redis,
    alice: SignedIn,
) -> None:
    verifier = verifier_module().TokenVerifier(settings.token_codec(), redis_client)
    await client.post("/auth/password-reset", json={"email": alice.email})
    [email] = await emails_to(db_session, alice.email)
    confirmation = {"token": token_in(email), "new_password": NEW_PASSWORD}
    assert (await client.post("/auth/password-reset/confirm", json=confirmation)).status_code == 204
    with pytest.raises(InvalidToken):
        await verifier.verify(alice.access_token)


async def test_without_redis_the_verifier_vouches_for_nobody(
    settings: Settings, alice: SignedIn
) -> None:
    module = verifier_module()
    down = Redis.from_url(NOBODY_LISTENS, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        verifier = module.TokenVerifier(settings.token_codec(), down)
        # Fail closed: it cannot know whether the session has ended, so it says so, with an
        # error of its own (a caller answers 503, not 401: the token may be fine).
        with pytest.raises(module.RevocationsUnavailable):
            await verifier.verify(alice.access_token)
        # A forged token needs no Redis to be refused.
        with pytest.raises(InvalidToken):
            await verifier.verify(alice.access_token[:-4] + "AAAA")
    finally:
        await down.aclose()


@pytest.mark.parametrize("app", [NOBODY_LISTENS], indirect=True)
async def test_a_session_still_ends_when_redis_is_down(
    client: AsyncClient, alice: SignedIn
) -> None:
    # The revocation is committed in PostgreSQL first; failing to publish it afterwards
    # must not turn the logout into an error.
    assert (await client.post("/auth/logout", headers=alice.headers)).status_code == 204
    assert (await client.get("/users/me", headers=alice.headers)).status_code == 401

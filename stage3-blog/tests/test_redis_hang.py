"""A hung Redis (SIGSTOP: connections open, nothing answered) must not slow the blog down
for long. Each cached read would wait for the socket timeout; the circuit breaker skips
Redis after a few failures, so reads go to PostgreSQL at their usual speed, and it tries
Redis again after its cool-down.

The test counts the calls the breaker lets through to the hung Redis (each costs its
caller the socket timeout) rather than timing reads, so a machine busy with other work
cannot make it fail.
"""

import asyncio

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
from conduit.main import create_app
from roadmap_shared.bench import Result, measure
from roadmap_shared.circuit import COOLDOWN_SECONDS, CircuitBreaker
from roadmap_shared.testing.private_servers import PrivateRedis
from tests.conftest import make_settings
from tests.factories import make_article, make_user

pytestmark = pytest.mark.slow
CLIENTS = 8
REQUESTS = 240
# Enough requests to open the breaker (each waits for the socket timeout meanwhile).
REQUESTS_TO_OPEN = 2 * CLIENTS
TAGS_KEY_PATTERN = "conduit:cache:tags*"


@pytest.fixture
def settings(database_url: str, private_redis: PrivateRedis) -> Settings:
    return make_settings(database_url, private_redis.url)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


async def tags(client: AsyncClient) -> Response:
    return await client.get("/api/tags")


async def run(client: AsyncClient, name: str, total: int = REQUESTS) -> Result:
    result = await measure(client, name, tags, total=total, concurrency=CLIENTS)
    assert result.errors == 0
    return result


class RedisCalls:
    """Counts the calls the Redis breaker lets through (the others skip Redis)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        allows_call = CircuitBreaker.allows_call

        def counting(breaker: CircuitBreaker) -> bool:
            allowed = allows_call(breaker)
            if allowed and breaker.name == "redis":
                self.count += 1
            return allowed

        monkeypatch.setattr(CircuitBreaker, "allows_call", counting)


async def test_a_hung_redis_costs_reads_nothing_once_the_breaker_opens_and_recovers(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    private_redis: PrivateRedis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redis_calls = RedisCalls(monkeypatch)
    await make_article(committed_session, await make_user(committed_session), tags=["dragons"])
    redis = Redis.from_url(private_redis.url)
    await tags(committing_client)
    assert await redis.keys(TAGS_KEY_PATTERN)  # cached: Redis is in use

    with private_redis.paused():  # the breaker is closed when the hang starts
        await run(committing_client, "opening the breaker", total=REQUESTS_TO_OPEN)
        calls_before = redis_calls.count
        hung = await run(committing_client, "Redis hung")
        calls_while_hung = redis_calls.count - calls_before

    # Back: after the cool-down a probe finds Redis and reads are cached again.
    await redis.flushdb()
    async with asyncio.timeout(COOLDOWN_SECONDS + 15):  # generous: a loaded machine
        while not await redis.keys(TAGS_KEY_PATTERN):
            assert (await tags(committing_client)).json() == {"tags": ["dragons"]}
            await asyncio.sleep(0.2)
    await redis.aclose()

    with private_redis.stopped():  # refused at once: every read from PostgreSQL
        await run(committing_client, "no cache")

    # Without the breaker every read calls Redis and waits for the socket timeout; with it,
    # only the one probe let through after each cool-down does.
    probes = 1 + int(hung.seconds // COOLDOWN_SECONDS)
    assert calls_while_hung <= probes, f"{calls_while_hung} calls to Redis in {hung.requests} reads"

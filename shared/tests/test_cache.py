import asyncio

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from roadmap_shared.cache import Cache
from roadmap_shared.circuit import CircuitBreaker
from roadmap_shared.testing.private_servers import PrivateRedis


class CountingLoader:
    def __init__(self, value: bytes, delay: float = 0.0) -> None:
        self.value, self.delay, self.calls = value, delay, 0

    async def __call__(self) -> bytes:
        self.calls += 1
        await asyncio.sleep(self.delay)
        return self.value


async def test_a_miss_loads_and_a_hit_does_not(redis_client: Redis) -> None:
    cache, loader = Cache(redis_client, namespace="t"), CountingLoader(b"tags")
    assert await cache.get_or_load("tags", loader, ttl_seconds=60) == b"tags"
    assert await cache.get_or_load("tags", loader, ttl_seconds=60) == b"tags"
    assert loader.calls == 1


async def test_invalidating_a_key_makes_the_next_read_load_again(redis_client: Redis) -> None:
    cache = Cache(redis_client, namespace="t")
    await cache.get_or_load("tags", CountingLoader(b"old"), ttl_seconds=60)
    await cache.invalidate("tags")
    assert await cache.get_or_load("tags", CountingLoader(b"new"), ttl_seconds=60) == b"new"


async def test_invalidating_a_group_makes_all_its_keys_stale(redis_client: Redis) -> None:
    cache = Cache(redis_client, namespace="t")
    for page in ["1", "2"]:
        await cache.get_or_load(page, CountingLoader(b"old"), ttl_seconds=60, group="articles")
    await cache.invalidate_group("articles")
    for page in ["1", "2"]:
        fresh = await cache.get_or_load(
            page, CountingLoader(b"new"), ttl_seconds=60, group="articles"
        )
        assert fresh == b"new"


async def test_concurrent_misses_on_a_hot_key_load_it_once(redis_client: Redis) -> None:
    cache, loader = Cache(redis_client, namespace="t"), CountingLoader(b"hot", delay=0.1)
    values = await asyncio.gather(
        *(cache.get_or_load("hot", loader, ttl_seconds=60) for _ in range(20))
    )
    assert values == [b"hot"] * 20
    assert loader.calls == 1


async def test_without_redis_every_read_goes_to_the_loader() -> None:
    unreachable = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    cache, loader = Cache(unreachable, namespace="t"), CountingLoader(b"db")
    assert await cache.get_or_load("k", loader, ttl_seconds=60) == b"db"
    await cache.invalidate_group("g")  # neither raises
    await cache.invalidate("k", group="g")
    assert loader.calls == 1
    await unreachable.aclose()


async def test_waiters_stop_waiting_when_the_loader_fails(redis_client: Redis) -> None:
    cache = Cache(redis_client, namespace="t", lock_seconds=30)
    loading, may_fail = asyncio.Event(), asyncio.Event()

    async def failing() -> bytes:
        loading.set()  # the first caller holds the lock now
        await may_fail.wait()
        raise LookupError("not found")

    waiter = CountingLoader(b"late")
    first = asyncio.create_task(cache.get_or_load("gone", failing, ttl_seconds=60))
    await loading.wait()
    asyncio.get_running_loop().call_later(0.05, may_fail.set)
    # With a 30 s lock, only noticing the released lock lets this finish promptly.
    second = await asyncio.wait_for(cache.get_or_load("gone", waiter, ttl_seconds=60), 5)
    assert second == b"late"
    assert waiter.calls == 1
    with pytest.raises(LookupError):
        await first


async def test_the_loader_runs_once_even_if_redis_fails_after_loading(
    redis_client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, loader = Cache(redis_client, namespace="t"), CountingLoader(b"fresh")
    real_set = redis_client.set

    async def set_fails_for_values(name: str, value: object, **options: object) -> object:
        if options.get("nx"):  # taking the lock still works
            return await real_set(name, value, **options)  # type: ignore[arg-type]
        raise RedisConnectionError("Redis went away")

    monkeypatch.setattr(redis_client, "set", set_fails_for_values)
    assert await cache.get_or_load("k", loader, ttl_seconds=60) == b"fresh"
    assert loader.calls == 1


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_hung_redis_opens_the_breaker_and_a_probe_closes_it_again(
    private_redis: PrivateRedis,
) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("redis", failure_threshold=2, cooldown_seconds=5, clock=clock)
    redis = Redis.from_url(private_redis.url, socket_connect_timeout=0.2, socket_timeout=0.2)
    cache, loader = Cache(redis, namespace="t", breaker=breaker), CountingLoader(b"db")
    with private_redis.paused():
        for _ in range(2):  # each waits for the socket timeout, then reads the database
            assert await cache.get_or_load("k", loader, ttl_seconds=60) == b"db"
        assert breaker.is_open
    # Redis answers again, but during the cool-down reads skip it: nothing gets stored.
    assert await cache.get_or_load("k", loader, ttl_seconds=60) == b"db"
    assert await redis.exists("t:k") == 0
    clock.now = 5  # the probe goes to Redis, succeeds and closes the breaker
    assert await cache.get_or_load("k", loader, ttl_seconds=60) == b"db"
    assert not breaker.is_open
    assert await redis.get("t:k") == b"db"
    assert loader.calls == 4
    await redis.aclose()

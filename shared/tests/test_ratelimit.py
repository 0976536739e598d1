import asyncio
import hashlib

import pytest
from redis.asyncio import Redis

from roadmap_shared.circuit import CircuitBreaker
from roadmap_shared.errors import TooManyRequests
from roadmap_shared.ratelimit import (
    LocalRateLimiter,
    RateLimit,
    RateLimiter,
    account_key,
    client_address_key,
)

FIVE_PER_MINUTE = RateLimit("login", limit=5, period_seconds=60)


async def test_a_burst_up_to_the_limit_passes_then_requests_are_refused(
    redis_client: Redis,
) -> None:
    limiter = RateLimiter(redis_client)
    decisions = [await limiter.hit(FIVE_PER_MINUTE, "alice") for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    refused = decisions[-1]
    # One request's worth of time (60 s / 5) must pass before the next is allowed.
    assert 11 <= refused.retry_after_seconds <= 12
    assert refused.headers()["Retry-After"] == "12"
    assert refused.headers()["RateLimit-Policy"] == '"login";q=5;w=60'


async def test_keys_are_limited_independently(redis_client: Redis) -> None:
    limiter = RateLimiter(redis_client)
    for _ in range(5):
        await limiter.hit(FIVE_PER_MINUTE, "alice")
    assert (await limiter.hit(FIVE_PER_MINUTE, "bob")).allowed


async def test_concurrent_requests_never_exceed_the_limit(redis_client: Redis) -> None:
    limiter = RateLimiter(redis_client)
    decisions = await asyncio.gather(*(limiter.hit(FIVE_PER_MINUTE, "carol") for _ in range(50)))
    assert sum(d.allowed for d in decisions) == 5


async def test_every_policy_counts_and_the_tightest_answers(redis_client: Redis) -> None:
    limiter = RateLimiter(redis_client)
    two_per_minute = RateLimit("login-account", limit=2, period_seconds=60)
    checks = [(FIVE_PER_MINUTE, "address-1"), (two_per_minute, "account-1")]

    first = await limiter.enforce_all(checks)
    await limiter.enforce_all(checks)
    with pytest.raises(TooManyRequests) as refused:
        await limiter.enforce_all(checks)

    assert first.policy == two_per_minute
    assert first.remaining == 1
    assert refused.value.headers["RateLimit-Policy"] == '"login-account";q=2;w=60'
    # The address was counted each time, refused request included.
    assert (await limiter.hit(FIVE_PER_MINUTE, "address-1")).remaining == 1


async def test_an_unreachable_redis_lets_requests_through() -> None:
    unreachable = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    decision = await RateLimiter(unreachable).hit(FIVE_PER_MINUTE, "dave")
    assert decision.allowed
    await unreachable.aclose()


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("testclient", "testclient"),
    ],
)
def test_client_addresses_are_keyed_by_what_one_client_controls(address: str, key: str) -> None:
    assert client_address_key(address) == key


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_local_limiter_applies_the_same_policy() -> None:
    clock = FakeClock()
    limiter = LocalRateLimiter(clock=clock)
    decisions = [limiter.hit(FIVE_PER_MINUTE, "alice") for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    assert decisions[-1].retry_after_seconds == pytest.approx(12)
    assert limiter.hit(FIVE_PER_MINUTE, "bob").allowed
    clock.now += 12  # one request's worth of time
    assert limiter.hit(FIVE_PER_MINUTE, "alice").allowed
    assert not limiter.hit(FIVE_PER_MINUTE, "alice").allowed


def test_the_local_limiter_holds_at_most_max_keys_forgetting_the_longest_idle() -> None:
    limiter = LocalRateLimiter(max_keys=2, clock=FakeClock())
    for _ in range(5):
        limiter.hit(FIVE_PER_MINUTE, "alice")
    assert not limiter.hit(FIVE_PER_MINUTE, "alice").allowed
    limiter.hit(FIVE_PER_MINUTE, "bob")
    limiter.hit(FIVE_PER_MINUTE, "carol")  # the table is full: alice, idle longest, goes
    assert limiter.hit(FIVE_PER_MINUTE, "alice").allowed


async def test_without_redis_the_limit_is_still_enforced_in_process() -> None:
    unreachable = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    limiter = RateLimiter(unreachable)
    decisions = [await limiter.hit(FIVE_PER_MINUTE, "erin") for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert int(decisions[-1].headers()["Retry-After"]) >= 1
    await unreachable.aclose()


async def test_the_breaker_sends_hits_to_the_local_limiter_without_calling_redis(
    redis_client: Redis,
) -> None:
    breaker = CircuitBreaker("redis", failure_threshold=1)
    breaker.record_failure()  # as if Redis had just failed
    limiter = RateLimiter(redis_client, prefix="breaker-test", breaker=breaker)
    assert (await limiter.hit(FIVE_PER_MINUTE, "frank")).allowed
    assert await redis_client.keys("breaker-test:*") == []
    breaker.record_success()
    await limiter.hit(FIVE_PER_MINUTE, "frank")
    assert await redis_client.keys("breaker-test:*") == ["breaker-test:login:frank"]


def test_an_account_key_is_a_keyed_hash_of_the_normalised_address() -> None:
    key = account_key("Alice@Example.com ", secret=b"s" * 32)
    assert key == account_key("alice@example.com", secret=b"s" * 32)
    assert "alice" not in key
    # Keyed: without the secret, hashing a guessed address does not find it.
    assert key != account_key("alice@example.com", secret=b"t" * 32)
    assert key not in hashlib.sha256(b"alice@example.com").hexdigest()

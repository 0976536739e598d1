"""What the limiter tells a client about time: when a slot frees up (`Retry-After`) and when
the key is fully rested (`RateLimit: t=`), to the millisecond the script computed."""

import pytest
from redis.asyncio import Redis

from roadmap_shared.errors import TooManyRequests
from roadmap_shared.ratelimit import RateLimit, RateLimiter

# 10 s / 3 = 3333 ms per request: a figure whose fraction shows any rounding.
THREE_PER_TEN_SECONDS = RateLimit("search", limit=3, period_seconds=10)


async def test_a_fresh_key_is_rested_one_interval_after_its_first_request(
    redis_client: Redis,
) -> None:
    decision = await RateLimiter(redis_client).hit(THREE_PER_TEN_SECONDS, "erin")

    # A fresh key starts at the server's "now", so the figure is exact.
    assert (decision.allowed, decision.remaining) == (True, 2)
    assert decision.reset_after_seconds == 3.333
    assert decision.headers()["RateLimit"] == '"search";r=2;t=4'
    assert "Retry-After" not in decision.headers()


async def test_a_refused_request_waits_about_one_interval_and_never_less_than_a_second(
    redis_client: Redis,
) -> None:
    limiter = RateLimiter(redis_client)
    *_, refused = [await limiter.hit(THREE_PER_TEN_SECONDS, "frank") for _ in range(4)]

    assert not refused.allowed
    # The slot frees one interval (3.333 s) after the first request, a few ms ago.
    assert 3 < refused.retry_after_seconds <= 3.333
    assert 9 < refused.reset_after_seconds <= 10
    assert refused.headers()["Retry-After"] == "4"


async def test_enforce_lets_requests_within_the_limit_through_and_refuses_the_next(
    redis_client: Redis,
) -> None:
    limiter = RateLimiter(redis_client)
    allowed = [await limiter.enforce(THREE_PER_TEN_SECONDS, "gina") for _ in range(3)]

    with pytest.raises(TooManyRequests) as refused:
        await limiter.enforce(THREE_PER_TEN_SECONDS, "gina")

    assert [decision.remaining for decision in allowed] == [2, 1, 0]
    assert refused.value.headers["Retry-After"] == "4"
    assert refused.value.headers["RateLimit"].startswith('"search";r=0;t=')

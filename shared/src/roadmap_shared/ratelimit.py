"""Rate limiting with GCRA (the generic cell rate algorithm), atomically in Redis.

GCRA keeps one number per key: the "theoretical arrival time" (TAT), the moment the key
would be fully rested if requests had arrived at exactly the allowed rate. Each request
pushes the TAT forward by one emission interval (period / limit). A request is refused
when that would put the TAT more than one period ahead of now. The result is a smooth
limit of `limit` requests per `period` with bursts of up to `limit`, no fixed window edge
to exploit, and one small key per client that expires by itself.

The whole check runs as one Lua script, so concurrent requests cannot both take the last
slot. Time comes from the Redis server, so app servers with skewed clocks agree.

When Redis cannot be reached (or its circuit breaker is open) the same algorithm runs in
this process's memory instead. A limit is never switched off, so a Redis outage does not
open the door to password guessing; each process counts on its own, though, so with N
processes a client gets up to N times the limit until Redis is back.
"""

import hashlib
import hmac
import ipaddress
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from roadmap_shared.circuit import CircuitBreaker
from roadmap_shared.errors import TooManyRequests

logger = logging.getLogger(__name__)

# KEYS[1]: the client's key. ARGV[1]: emission interval (ms). ARGV[2]: period (ms).
# Returns {allowed (0/1), remaining, retry_after_ms, reset_after_ms}.
_GCRA_SCRIPT = """
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
local new_tat = tat + interval
if new_tat - now > period then
  return {0, 0, new_tat - period - now, tat - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {1, math.floor((period - (new_tat - now)) / interval), 0, new_tat - now}
"""


# One IPv6 customer usually holds a whole /64: keyed by single address, each attempt
# could come from a fresh one.
IPV6_CLIENT_PREFIX = 64


def client_address_key(address: str) -> str:
    """The rate-limit key of a client address: IPv4 as it is, IPv6 by its /64 network,
    and an IPv4 client on a dual-stack socket (`::ffff:192.0.2.1`) as IPv4."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:  # not an address: "unknown", or a test client's made-up name
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_CLIENT_PREFIX), strict=False))
    return str(ip)


def account_key(email: str, *, secret: bytes) -> str:
    """The rate-limit key of an account named by its email address: a keyed hash of the
    address, trimmed and lower-cased, so that the limit holds however it is spelled.

    Redis never holds the address. And since the hash is keyed (HMAC), whoever can read
    Redis cannot hash a list of known addresses to see which of them have been trying
    to sign in; only the app, which holds `secret`, can.
    """
    normalised = email.strip().lower().encode()
    return hmac.new(secret, normalised, hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class RateLimit:
    """`limit` requests per `period_seconds`, with bursts of up to `limit`."""

    name: str
    limit: int
    period_seconds: int


@dataclass(frozen=True)
class Decision:
    policy: RateLimit
    allowed: bool
    remaining: int
    retry_after_seconds: float
    reset_after_seconds: float

    def headers(self) -> dict[str, str]:
        """The IETF `RateLimit` and `RateLimit-Policy` fields
        (draft-ietf-httpapi-ratelimit-headers), plus `Retry-After` when refused."""
        name = self.policy.name
        headers = {
            "RateLimit-Policy": f'"{name}";q={self.policy.limit};w={self.policy.period_seconds}',
            "RateLimit": f'"{name}";r={self.remaining};t={math.ceil(self.reset_after_seconds)}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after_seconds)))
        return headers


class LocalRateLimiter:
    """GCRA in this process's memory: the fallback while Redis is away.

    The same arithmetic as the Lua script, on the process's monotonic clock. Keys whose
    TAT has passed are fully rested and are swept once the table is full; if it is still
    full, the longest idle keys go (they would start rested again, a small leak of allowance
    only under a flood of distinct keys)."""

    def __init__(
        self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max_keys = max_keys
        self._clock = clock
        self._tats: dict[str, float] = {}  # key -> TAT, least recently hit first

    def hit(self, policy: RateLimit, key: str) -> Decision:
        now = self._clock()
        interval = policy.period_seconds / policy.limit
        tat = max(self._tats.pop(key, now), now)
        new_tat = tat + interval
        if new_tat - now > policy.period_seconds:
            self._tats[key] = tat
            return Decision(policy, False, 0, new_tat - policy.period_seconds - now, tat - now)
        self._tats[key] = new_tat
        self._make_room(now)
        remaining = math.floor((policy.period_seconds - (new_tat - now)) / interval + 1e-9)
        return Decision(policy, True, remaining, 0.0, new_tat - now)

    def _make_room(self, now: float) -> None:
        if len(self._tats) <= self._max_keys:
            return
        self._tats = {key: tat for key, tat in self._tats.items() if tat > now}
        while len(self._tats) > self._max_keys:
            del self._tats[next(iter(self._tats))]


class RateLimiter:
    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "ratelimit",
        breaker: CircuitBreaker | None = None,
        fallback: LocalRateLimiter | None = None,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_GCRA_SCRIPT)
        # Pass the breaker of the cache on the same Redis, so they learn together.
        self._breaker = breaker or CircuitBreaker("redis")
        self._fallback = fallback or LocalRateLimiter()

    async def hit(self, policy: RateLimit, key: str) -> Decision:
        """Counts one request for `key` and says whether it may proceed.

        If Redis cannot be reached this process counts alone (see the module docstring):
        failing closed would turn a cache outage into a full outage, failing open would
        switch off the limits that stop password guessing.
        """
        full_key = f"{self._prefix}:{policy.name}:{key}"
        if not self._breaker.allows_call():
            return self._fallback.hit(policy, full_key)
        period_ms = policy.period_seconds * 1000
        # Whole milliseconds keep the script's arithmetic exact.
        interval_ms = max(1, round(period_ms / policy.limit))
        try:
            allowed, remaining, retry_ms, reset_ms = await self._script(
                keys=[full_key], args=[interval_ms, period_ms]
            )
        except RedisError:
            self._breaker.record_failure()
            logger.warning("rate limiter unavailable; counting in this process", exc_info=True)
            return self._fallback.hit(policy, full_key)
        self._breaker.record_success()
        return Decision(
            policy=policy,
            allowed=bool(allowed),
            remaining=int(remaining),
            retry_after_seconds=float(retry_ms) / 1000,
            reset_after_seconds=float(reset_ms) / 1000,
        )

    async def enforce(self, policy: RateLimit, key: str) -> Decision:
        """Like `hit`, but raises 429 (with `Retry-After` and `RateLimit`) when refused."""
        decision = await self.hit(policy, key)
        if not decision.allowed:
            error = TooManyRequests(
                f"Too many requests; try again in {math.ceil(decision.retry_after_seconds)} s.",
                retry_after_seconds=math.ceil(decision.retry_after_seconds),
            )
            error.headers.update(decision.headers())
            raise error
        return decision

    async def enforce_all(self, checks: Sequence[tuple[RateLimit, str]]) -> Decision:
        """Counts the request against every policy (429 from the first one exhausted);
        returns the decision closest to its limit, whose headers the response should carry.

        A sign-in is counted per account and per address: the first slows many addresses
        guessing one password, the second one address trying many accounts.
        """
        decisions = [await self.enforce(policy, key) for policy, key in checks]
        return min(decisions, key=lambda decision: decision.remaining)

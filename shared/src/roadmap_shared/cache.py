"""Cache-aside in Redis with group invalidation, stampede protection, and a database
fallback when Redis is down.

- Cache-aside: read the cache; on a miss, load from the database and store the result.
- Groups: keys that one write makes stale together (every page of a list) share a group.
  Each group has a version number inside its keys; a write bumps the version, so every
  old key is unreachable at once and expires by itself. No scanning, no race with readers.
- Stampede protection: when a hot key expires, one caller takes a short lock and loads it;
  the others wait briefly for its result instead of all hitting the database at once.
- Failure: if Redis cannot be reached, every call goes to the loader. Slower, still right.
  A circuit breaker stops a hung Redis from costing each call its socket timeout: after a
  few failures reads skip Redis for a cool-down. Invalidations are still attempted, since
  one skipped would leave a stale value in place for a whole TTL once Redis is back.
"""

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from roadmap_shared.circuit import CircuitBreaker

logger = logging.getLogger(__name__)

Loader = Callable[[], Awaitable[bytes]]

# Deletes the lock only if it is still ours (it may have expired and been taken by another).
_RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Cache:
    def __init__(
        self,
        redis: Redis,
        *,
        namespace: str,
        lock_seconds: float = 5.0,
        poll_seconds: float = 0.02,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._redis = redis
        # Pass the breaker of the rate limiter on the same Redis, so they learn together.
        self._breaker = breaker or CircuitBreaker("redis")
        self._namespace = namespace
        self._lock_ms = int(lock_seconds * 1000)
        self._poll_seconds = poll_seconds
        self._release = redis.register_script(_RELEASE_LOCK)

    async def get_or_load(
        self, key: str, loader: Loader, *, ttl_seconds: int, group: str | None = None
    ) -> bytes:
        """The cached value for `key`, or `loader()`'s result, stored for `ttl_seconds`.

        The loader runs at most once per call, whatever Redis does meanwhile."""
        if not self._breaker.allows_call():
            return await loader()
        try:
            full_key = await self._full_key(key, group)
            found = await self._cached_or_claim(full_key)
        except RedisError:
            self._breaker.record_failure()
            logger.warning("cache unavailable; reading from the source", exc_info=True)
            return await loader()
        self._breaker.record_success()
        if isinstance(found, bytes):
            return found
        try:
            value = await loader()
            # Stored before the lock is released, so a waiter that sees the lock gone finds it.
            await self._quietly(self._redis.set(full_key, value, ex=ttl_seconds), "store")
        finally:
            if found.token is not None:
                release = self._release(keys=[found.lock_key], args=[found.token])
                await self._quietly(release, "release the lock")
        return value

    async def invalidate(self, key: str, *, group: str | None = None) -> None:
        async def delete() -> None:
            await self._redis.delete(await self._full_key(key, group))

        await self._quietly(delete(), "invalidate; stale until its TTL")

    async def invalidate_group(self, group: str) -> None:
        """Makes every key of `group` stale at once."""
        await self._quietly(
            self._redis.incr(self._version_key(group)), "invalidate; stale until its TTL"
        )

    async def _quietly(self, operation: Awaitable[object], what: str) -> None:
        # Logged, not raised: the caller's work (a committed write, a loaded value) stands.
        # Keep TTLs short, because a key that could not be invalidated lives until it expires.
        try:
            await operation
        except RedisError:
            self._breaker.record_failure()
            logger.error("cache could not %s", what, exc_info=True)
        else:
            self._breaker.record_success()

    def _version_key(self, group: str) -> str:
        return f"{self._namespace}:group:{group}:version"

    async def _full_key(self, key: str, group: str | None) -> str:
        if group is None:
            return f"{self._namespace}:{key}"
        version = await self._redis.get(self._version_key(group))
        return f"{self._namespace}:{group}:v{int(version or 0)}:{key}"

    async def _cached_or_claim(self, full_key: str) -> "bytes | _Claim":
        """The cached value; or a claim to load it, with the lock when we took it."""
        if (cached := await self._redis.get(full_key)) is not None:
            return _as_bytes(cached)
        lock_key, token = f"{full_key}:lock", secrets.token_hex(8)
        if await self._redis.set(lock_key, token, nx=True, px=self._lock_ms):
            return _Claim(lock_key, token)
        # Someone else is loading it: wait for their result, but not longer than the lock,
        # and not at all once the lock is gone without a value (their loader failed).
        deadline = time.monotonic() + self._lock_ms / 1000
        while time.monotonic() < deadline:
            await asyncio.sleep(self._poll_seconds)
            lock_held = await self._redis.exists(lock_key)
            # Read after the lock check: the holder stores the value before it releases the
            # lock, so once the lock is gone the value is there, unless the loader failed.
            if (cached := await self._redis.get(full_key)) is not None:
                return _as_bytes(cached)
            if not lock_held:
                break
        return _Claim(lock_key, token=None)


@dataclass(frozen=True)
class _Claim:
    lock_key: str
    token: str | None  # None: we load without holding the lock


def _as_bytes(value: bytes | str) -> bytes:
    # Clients made with `decode_responses=True` return str.
    return value.encode() if isinstance(value, str) else value

"""Cache-aside in Redis with group invalidation, stampede protection, and a database
fallback when Redis is down.

- Cache-aside: read the cache; on a miss, load from the database and store the result.
- Groups: keys that one write makes stale together (every page of a list) share a group.
  Each group has a version number inside its keys; a write bumps the version, so every
  old key is unreachable at once and expires by itself. No scanning, no race with readers.
- Stampede protection: when a hot key expires, one caller takes a short lock and loads it;
  the others wait briefly for its result instead of all hitting the database at once.
- Failure: if Redis cannot be reached, every call goes to the loader. Slower, still right.
"""

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

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
    ) -> None:
        self._redis = redis
        self._namespace = namespace
        self._lock_ms = int(lock_seconds * 1000)
        self._poll_seconds = poll_seconds
        self._release = redis.register_script(_RELEASE_LOCK)

    async def get_or_load(
        self, key: str, loader: Loader, *, ttl_seconds: int, group: str | None = None
    ) -> bytes:
        """The cached value for `key`, or `loader()`'s result, stored for `ttl_seconds`."""
        try:
            full_key = await self._full_key(key, group)
            if (cached := await self._redis.get(full_key)) is not None:
                return _as_bytes(cached)
            return await self._load_once(full_key, loader, ttl_seconds)
        except RedisError:
            logger.warning("cache unavailable; reading from the source", exc_info=True)
            return await loader()

    async def invalidate(self, key: str, *, group: str | None = None) -> None:
        async def delete() -> None:
            await self._redis.delete(await self._full_key(key, group))

        await self._quietly(delete())

    async def invalidate_group(self, group: str) -> None:
        """Makes every key of `group` stale at once."""
        await self._quietly(self._redis.incr(self._version_key(group)))

    async def _quietly(self, invalidation: Awaitable[object]) -> None:
        # A failed invalidation is logged, not raised: the write it follows has committed.
        # Keep TTLs short, because a key that could not be invalidated lives until it expires.
        try:
            await invalidation
        except RedisError:
            logger.error("cache invalidation failed; stale until TTL", exc_info=True)

    def _version_key(self, group: str) -> str:
        return f"{self._namespace}:group:{group}:version"

    async def _full_key(self, key: str, group: str | None) -> str:
        if group is None:
            return f"{self._namespace}:{key}"
        version = await self._redis.get(self._version_key(group))
        return f"{self._namespace}:{group}:v{int(version or 0)}:{key}"

    async def _load_once(self, full_key: str, loader: Loader, ttl_seconds: int) -> bytes:
        lock_key, token = f"{full_key}:lock", secrets.token_hex(8)
        if await self._redis.set(lock_key, token, nx=True, px=self._lock_ms):
            try:
                value = await loader()
                await self._redis.set(full_key, value, ex=ttl_seconds)
                return value
            finally:
                await self._release(keys=[lock_key], args=[token])
        # Someone else is loading it: wait for their result, but not longer than the lock,
        # and not at all once the lock is gone without a value (their loader failed).
        deadline = time.monotonic() + self._lock_ms / 1000
        while time.monotonic() < deadline:
            await asyncio.sleep(self._poll_seconds)
            if (cached := await self._redis.get(full_key)) is not None:
                return _as_bytes(cached)
            if not await self._redis.exists(lock_key):
                break
        return await loader()


def _as_bytes(value: bytes | str) -> bytes:
    # Clients made with `decode_responses=True` return str.
    return value.encode() if isinstance(value, str) else value

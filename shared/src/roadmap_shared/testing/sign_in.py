"""Sign-in details every stage with accounts gets the same: stored hashes are upgraded
when their parameters grow old, and the rate limiter's Redis keys hold no email address."""

import re

from argon2 import PasswordHasher
from redis.asyncio import Redis

from roadmap_shared.security.passwords import needs_rehash, verify_password

# Far weaker than the current parameters: what an older release would have stored.
_OUTDATED = PasswordHasher(time_cost=1, memory_cost=8192)


def outdated_password_hash(password: str) -> str:
    """A valid hash of `password`, made with parameters the current ones have replaced."""
    return _OUTDATED.hash(password)


async def assert_password_hash_upgraded(stored: str | None, outdated: str, password: str) -> None:
    """`stored` replaced `outdated` with a current hash of the same `password`."""
    assert stored is not None
    assert stored != outdated
    assert not needs_rehash(stored)
    assert await verify_password(stored, password)


async def redis_keys_without(redis: Redis, email: str) -> list[str]:
    """Every key in `redis`, once checked that none holds `email` (a key name is in every
    log and dump of the cache; a rate limiter keys accounts by a keyed hash instead)."""
    keys = [str(key) async for key in redis.scan_iter()]
    # Any word of it gives a person away ("private" from "Someone.Private@..."); short ones
    # such as "com" could stand in a key by chance.
    words = [word for word in re.split(r"[^a-z0-9]+", email.lower()) if len(word) >= 5]
    assert not [key for key in keys if any(word in key.lower() for word in words)], keys
    return keys

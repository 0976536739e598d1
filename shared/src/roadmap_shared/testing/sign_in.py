"""Sign-in details every stage with accounts gets the same: stored hashes are upgraded
when their parameters grow old, and the rate limiter's Redis keys hold no email address."""

import re
from collections.abc import Awaitable, Callable
from typing import Any

from argon2 import PasswordHasher
from httpx import Response
from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.ratelimit import account_key
from roadmap_shared.security.passwords import needs_rehash, verify_password

# Far weaker than the current parameters: what an older release would have stored.
_OUTDATED = PasswordHasher(time_cost=1, memory_cost=8192)


def outdated_password_hash(password: str) -> str:
    """A valid hash of `password`, made with parameters the current ones have replaced."""
    return _OUTDATED.hash(password)


async def assert_sign_in_upgrades_outdated_hash(
    session: AsyncSession, user: Any, password: str, sign_in: Callable[[], Awaitable[Response]]
) -> None:
    """Signing in with `password` (`sign_in` sends the request) replaces the outdated hash
    stored for `user` (a mapped row with `id` and `password_hash`) with a current one."""
    model = type(user)
    outdated = outdated_password_hash(password)
    await session.execute(update(model).where(model.id == user.id).values(password_hash=outdated))

    assert (await sign_in()).status_code == 200

    stored = await session.scalar(select(model.password_hash).where(model.id == user.id))
    await assert_password_hash_upgraded(stored, outdated, password)


async def assert_password_hash_upgraded(stored: str | None, outdated: str, password: str) -> None:
    """`stored` replaced `outdated` with a current hash of the same `password`."""
    assert stored is not None
    assert stored != outdated
    assert not needs_rehash(stored)
    assert await verify_password(stored, password)


async def assert_accounts_keyed_by_hash(
    redis: Redis, email: str, *, secret: bytes, key: str
) -> None:
    """The rate limiter names the account `email` in Redis by its keyed hash, never by the
    address (a key name is in every log and dump of Redis): `key`, with `{hashed}` standing
    for the hash, is in `redis`, and no key holds a word of the address."""
    keys = [str(name) async for name in redis.scan_iter()]
    # Any word of it gives a person away ("private" from "Someone.Private@..."); short ones
    # such as "com" could stand in a key by chance.
    words = [word for word in re.split(r"[^a-z0-9]+", email.lower()) if len(word) >= 5]
    assert not [name for name in keys if any(word in name.lower() for word in words)], keys
    assert key.format(hashed=account_key(email, secret=secret)) in keys, keys

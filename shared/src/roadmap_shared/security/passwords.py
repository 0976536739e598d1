"""Password hashing with argon2id, off the event loop.

Parameters follow OWASP's Password Storage Cheat Sheet (argon2id, m=19 MiB, t=2, p=1).
Hashing costs tens of milliseconds of CPU on purpose; run inline it would stall every other
request on the event loop, so it runs in a small thread pool (argon2 releases the GIL).
"""

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1, type=Type.ID)
# One worker per core: more would only queue on the CPU and hold memory (19 MiB each).
# Callers that queue work for the pool (a login waiting for a slot) size their queue by it.
HASHING_THREADS = os.cpu_count() or 1
_executor = ThreadPoolExecutor(max_workers=HASHING_THREADS, thread_name_prefix="argon2")


@cache
def _dummy_hash() -> str:
    return _hasher.hash("a password nobody has, verified to equalise timing")


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_executor, _hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Checks a password. With no hash (unknown user) it verifies against a dummy hash,
    so "no such account" takes as long as "wrong password" and cannot be told apart."""
    target = password_hash if password_hash is not None else _dummy_hash()
    loop = asyncio.get_running_loop()
    matches = await loop.run_in_executor(_executor, _verify, target, password)
    return matches and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with older parameters and should be replaced at login."""
    return _hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True)
class PasswordCheck:
    matches: bool
    # The password hashed with today's parameters, when it matched a hash made with older
    # ones. The caller stores it: the password is at hand only now, at sign-in.
    upgraded_hash: str | None = None


async def check_password(password_hash: str | None, password: str) -> PasswordCheck:
    """Signing in: checks `password` against a user's hash, or, when there is no such
    user (None), against a dummy hash so that both answers take as long. A match against
    an outdated hash comes with its replacement."""
    if not await verify_password(password_hash, password) or password_hash is None:
        return PasswordCheck(matches=False)
    if needs_rehash(password_hash):
        return PasswordCheck(matches=True, upgraded_hash=await hash_password(password))
    return PasswordCheck(matches=True)

"""Running one unit of work in a transaction, again when PostgreSQL aborts it for a reason
that a new attempt cures.

Accounts are always locked in the order of their ids, so two transfers never wait for each
other in a circle. Yet a circle remains possible in rare cases (two batches reusing a
transfer id with different accounts), and PostgreSQL then aborts one of them (deadlock
detected, SQLSTATE 40P01). That transaction did nothing: running it again is safe, and the
caller never sees the deadlock."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ledger.errors import RetryTransaction

DEADLOCK_DETECTED = "40P01"
SERIALIZATION_FAILURE = "40001"

T = TypeVar("T")


def _is_retryable(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in {DEADLOCK_DETECTED, SERIALIZATION_FAILURE}


async def run_in_transaction(
    engine: AsyncEngine, work: Callable[[AsyncConnection], Awaitable[T]], *, attempts: int
) -> T:
    for attempt in range(1, attempts + 1):
        try:
            async with engine.begin() as connection:
                return await work(connection)
        except RetryTransaction:
            if attempt == attempts:
                raise
        except DBAPIError as error:
            if attempt == attempts or not _is_retryable(error):
                raise
    raise ValueError("attempts must be at least 1")

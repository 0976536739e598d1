"""Running one unit of work in a transaction, again when PostgreSQL aborts it for a reason
that a new attempt cures.

Accounts are always locked in the order of their ids, so two transfers never wait for each
other in a circle. Yet a circle remains possible in rare cases (two batches reusing a
transfer id with different accounts), and PostgreSQL then aborts one of them (deadlock
detected, SQLSTATE 40P01). That transaction did nothing: running it again is safe, and the
caller never sees the deadlock."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from prometheus_client import Counter
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ledger.errors import RetryTransaction

DEADLOCK_DETECTED = "40P01"
SERIALIZATION_FAILURE = "40001"

T = TypeVar("T")

RETRIES = Counter(
    "ledger_transaction_retries",
    "Transactions run again, by cause: a deadlock, a serialization failure, a transfer id "
    "stored meanwhile by another transaction",
    ["cause"],
)


RETRYABLE = {DEADLOCK_DETECTED: "deadlock", SERIALIZATION_FAILURE: "serialization_failure"}


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
            RETRIES.labels("id_taken").inc()
        except DBAPIError as error:
            cause = getattr(error.orig, "sqlstate", None)
            if attempt == attempts or cause not in RETRYABLE:
                raise
            RETRIES.labels(RETRYABLE[cause]).inc()
    raise ValueError("attempts must be at least 1")

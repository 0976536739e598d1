"""What runs beside the APIs: pending transfers past their timeout are expired, and the
gauges (pending transfers, the imbalance per currency) refreshed, every few seconds."""

import asyncio
import logging
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger import metrics
from ledger.errors import Rejected
from ledger.models import Account, Transfer
from ledger.outcomes import Outcome
from ledger.transactions import run_in_transaction
from ledger.transfers.repository import due_pending_transfers
from ledger.transfers.service import finish_pending

logger = logging.getLogger(__name__)
EXPIRED_PER_ROUND = 100


async def expire_due_transfers(engine: AsyncEngine, *, attempts: int = 3) -> int:
    """Expires the pending transfers past their timeout, each in its own transaction; how
    many it expired. One posted, voided or expired meanwhile is left as it is."""
    async with engine.connect() as connection:
        due = await due_pending_transfers(connection, EXPIRED_PER_ROUND)
    expired = 0
    for transfer_id in due:
        try:
            result = await run_in_transaction(
                engine,
                partial(finish_pending, transfer_id=str(transfer_id), final_state="expired"),
                attempts=attempts,
            )
        except Rejected:
            continue
        if result.outcome is not Outcome.CREATED:
            continue  # another instance expired it first
        metrics.TRANSFERS.labels("expired").inc()
        expired += 1
    return expired


async def expire_backlog(engine: AsyncEngine) -> int:
    """Expires round after round while rounds come back full: after an outage, a backlog
    of due transfers would otherwise hold customers' funds for another round's interval
    per hundred."""
    total = 0
    while True:
        expired = await expire_due_transfers(engine)
        total += expired
        if expired < EXPIRED_PER_ROUND:
            return total


async def refresh_gauges(engine: AsyncEngine) -> None:
    """Counts from the tables themselves, not from counters in memory, so a bug anywhere
    (or a row changed by hand) shows here. The imbalance is the sum of the accounts'
    balances: each balance is the sum of its account's entries, so this is the sum of
    every entry, read from the accounts (one row each) rather than from the entries,
    which only grow; and it also catches a balance changed without an entry."""
    accounts, transfers = Account.__table__, Transfer.__table__
    async with engine.connect() as connection:
        pending = await connection.scalar(
            select(func.count()).select_from(transfers).where(transfers.c.state == "pending")
        )
        sums = await connection.execute(
            select(accounts.c.currency, func.sum(accounts.c.balance)).group_by(accounts.c.currency)
        )
        metrics.PENDING_TRANSFERS.set(pending or 0)
        for currency, total in sums:
            metrics.IMBALANCE.labels(currency).set(total)


async def maintain(engine: AsyncEngine, *, every_seconds: float) -> None:
    """Runs until cancelled; a failed round (the database away) is logged and tried again."""
    while True:
        try:
            await expire_backlog(engine)
            await refresh_gauges(engine)
        except Exception:
            logger.exception("ledger maintenance failed; trying again")
        await asyncio.sleep(every_seconds)

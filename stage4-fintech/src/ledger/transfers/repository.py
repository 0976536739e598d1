"""Transfers and entries in SQL. Entries are only ever inserted (the database refuses the
rest); a transfer row changes only from `pending` to a final state."""

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.models import Entry, Transfer

TRANSFERS = cast(Table, Transfer.__table__)
ENTRIES = cast(Table, Entry.__table__)


@dataclass
class TransferRow:
    id: uuid.UUID
    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    amount: int
    currency: str
    two_phase: bool
    timeout_seconds: int
    state: str
    posted_amount: int
    expires_at: datetime | None


TRANSFER_COLUMNS = [TRANSFERS.c[name] for name in TransferRow.__dataclass_fields__]


async def find_transfers(
    connection: AsyncConnection, ids: Collection[uuid.UUID], *, lock: bool = False
) -> dict[uuid.UUID, TransferRow]:
    if not ids:
        return {}
    query = select(*TRANSFER_COLUMNS).where(TRANSFERS.c.id.in_(ids))
    rows = await connection.execute(query.with_for_update() if lock else query)
    return {row.id: TransferRow(**row._mapping) for row in rows}


async def insert_transfers(connection: AsyncConnection, transfers: list[TransferRow]) -> int:
    """Inserts the transfers; how many were new. A transfer id inserted meanwhile by another
    transaction (committed after this one looked) is skipped, not an error."""
    if not transfers:
        return 0
    inserted = await connection.execute(
        pg_insert(TRANSFERS)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(TRANSFERS.c.id),
        [vars(transfer) for transfer in transfers],
    )
    return len(inserted.all())


async def insert_entries(connection: AsyncConnection, entries: list[dict[str, object]]) -> None:
    if entries:
        await connection.execute(insert(ENTRIES), entries)


async def finish_transfer(
    connection: AsyncConnection, transfer_id: uuid.UUID, state: str, posted_amount: int
) -> None:
    await connection.execute(
        update(TRANSFERS)
        .where(TRANSFERS.c.id == transfer_id)
        .values(state=state, posted_amount=posted_amount)
    )


async def database_now(connection: AsyncConnection) -> datetime:
    """The time on the database's clock, the one clock every instance shares, when this
    statement runs: not `now()`, the transaction's start, which may be long before (a post
    waits for its accounts' locks, then checks whether the transfer expired meanwhile)."""
    return cast(datetime, await connection.scalar(select(func.statement_timestamp())))


async def due_pending_transfers(connection: AsyncConnection, limit: int) -> list[uuid.UUID]:
    rows = await connection.scalars(
        select(TRANSFERS.c.id)
        .where(TRANSFERS.c.state == "pending", TRANSFERS.c.expires_at <= func.now())
        .order_by(TRANSFERS.c.expires_at)
        .limit(limit)
    )
    return list(rows)

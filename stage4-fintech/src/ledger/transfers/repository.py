"""Transfers and entries in SQL. Entries are only ever inserted (the database refuses the
rest); a transfer row changes only from `pending` to a final state."""

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.arrays import any_of, as_arrays, unnested
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
transfer_values = attrgetter(*TransferRow.__dataclass_fields__)
FIND_TRANSFERS = select(*TRANSFER_COLUMNS).where(any_of(TRANSFERS.c.id))
LOCK_TRANSFERS = FIND_TRANSFERS.with_for_update()
# What `Batch.move` writes of an entry, in this order (the rest are the table's defaults).
ENTRY_COLUMNS = [
    ENTRIES.c[name]
    for name in (
        "transfer_id",
        "account_id",
        "currency",
        "amount",
        "balance_before",
        "balance_after",
        "account_version",
    )
]
EntryValues = tuple[uuid.UUID, uuid.UUID, str, int, int, int, int]


# A batch in one statement each, whatever its size: the rows go as one array per column,
# not as one parameter set per row that PostgreSQL would execute again and again.
INSERT_TRANSFERS = (
    pg_insert(TRANSFERS)
    .from_select(TRANSFER_COLUMNS, select(*(unnested(c) for c in TRANSFER_COLUMNS)))
    .on_conflict_do_nothing(index_elements=["id"])
    .returning(TRANSFERS.c.id)
)
# In the arrays' order, so each account's entries get increasing ids in the order they were
# applied: its history reads them back by id.
INSERT_ENTRIES = insert(ENTRIES).from_select(
    ENTRY_COLUMNS, select(*(unnested(c) for c in ENTRY_COLUMNS))
)


async def find_transfers(
    connection: AsyncConnection, ids: Collection[uuid.UUID], *, lock: bool = False
) -> dict[uuid.UUID, TransferRow]:
    if not ids:
        return {}
    query = LOCK_TRANSFERS if lock else FIND_TRANSFERS
    rows = await connection.execute(query, {"ids": list(ids)})
    return {row.id: TransferRow(*row) for row in rows}


async def insert_transfers(connection: AsyncConnection, transfers: list[TransferRow]) -> int:
    """Inserts the transfers; how many were new. A transfer id inserted meanwhile by another
    transaction (committed after this one looked) is skipped, not an error."""
    if not transfers:
        return 0
    rows = [transfer_values(transfer) for transfer in transfers]
    inserted = await connection.execute(INSERT_TRANSFERS, as_arrays(rows, TRANSFER_COLUMNS))
    return len(inserted.all())


async def insert_entries(connection: AsyncConnection, entries: list[EntryValues]) -> None:
    """All the entries in one statement: the database checks that each transfer's entries
    sum to zero once per statement, so a transfer's entries are never split between two."""
    if entries:
        await connection.execute(INSERT_ENTRIES, as_arrays(list(entries), ENTRY_COLUMNS))


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

"""An account's entries, newest first, a page at a time (keyset: `before_entry_id`)."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.models import Entry

ENTRIES = cast(Table, Entry.__table__)
MAX_PAGE = 100
DEFAULT_PAGE = 50


@dataclass(frozen=True)
class EntryRow:
    id: int
    transfer_id: uuid.UUID
    amount: int
    balance_before: int
    balance_after: int
    account_version: int
    created_at: datetime


async def read_entries(
    connection: AsyncConnection, account_id: uuid.UUID, *, limit: int, before_entry_id: int = 0
) -> list[EntryRow]:
    query = (
        select(*(ENTRIES.c[name] for name in EntryRow.__dataclass_fields__))
        .where(ENTRIES.c.account_id == account_id)
        .order_by(ENTRIES.c.id.desc())
        .limit(limit)
    )
    if before_entry_id:
        query = query.where(ENTRIES.c.id < before_entry_id)
    return [EntryRow(**row._mapping) for row in await connection.execute(query)]

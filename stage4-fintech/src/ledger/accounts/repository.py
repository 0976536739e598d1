"""Accounts in SQL: opening, reading, and locking them in the one order every writer uses."""

import uuid
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, fields
from operator import attrgetter
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.arrays import any_of, as_arrays, unnested
from ledger.models import Account

ACCOUNTS = cast(Table, Account.__table__)


@dataclass
class AccountState:
    """An account as read (and locked) in a transaction; a transfer changes it in memory,
    and `save_accounts` writes what changed before the transaction commits."""

    id: uuid.UUID
    currency: str
    must_not_go_negative: bool
    balance: int
    pending_debits: int
    pending_credits: int
    version: int

    @property
    def available(self) -> int:
        """What may still leave the account: its balance less what pending transfers hold."""
        return self.balance - self.pending_debits


COLUMNS = [ACCOUNTS.c[field.name] for field in fields(AccountState)]
READ_ACCOUNTS = select(*COLUMNS).where(any_of(ACCOUNTS.c.id)).order_by(ACCOUNTS.c.id)
LOCK_ACCOUNTS = READ_ACCOUNTS.with_for_update()


async def lock_accounts(
    connection: AsyncConnection, ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, AccountState]:
    """Locks the accounts with these ids, always in the order of their ids: two transfers
    between A and B in opposite directions both lock A first, so one simply waits for the
    other instead of each holding the lock the other needs (a deadlock)."""
    if not ids:
        return {}
    rows = await connection.execute(LOCK_ACCOUNTS, {"ids": list(ids)})
    return {row.id: AccountState(*row) for row in rows}


async def read_accounts(
    connection: AsyncConnection, ids: Collection[uuid.UUID]
) -> list[AccountState]:
    rows = await connection.execute(READ_ACCOUNTS, {"ids": list(ids)})
    return [AccountState(*row) for row in rows]


SAVED = [
    ACCOUNTS.c[name] for name in ("id", "balance", "pending_debits", "pending_credits", "version")
]
saved_values = attrgetter(*(column.name for column in SAVED))
# Every changed account in one statement, joined by id to the rows this transaction locked.
CHANGED = select(*(unnested(column) for column in SAVED)).subquery("changed")
SAVE_ACCOUNTS = (
    update(ACCOUNTS)
    .where(ACCOUNTS.c.id == CHANGED.c.id)
    .values({column.name: CHANGED.c[column.name] for column in SAVED[1:]})
)


async def save_accounts(connection: AsyncConnection, accounts: Iterable[AccountState]) -> None:
    rows = [saved_values(account) for account in accounts]
    if rows:
        await connection.execute(SAVE_ACCOUNTS, as_arrays(rows, SAVED))


async def insert_accounts(
    connection: AsyncConnection, accounts: list[AccountState]
) -> set[uuid.UUID]:
    """Inserts the accounts whose id is free; the ids it inserted."""
    inserted = await connection.execute(
        pg_insert(ACCOUNTS).on_conflict_do_nothing(index_elements=["id"]).returning(ACCOUNTS.c.id),
        [asdict(account) for account in accounts],
    )
    return set(inserted.scalars())

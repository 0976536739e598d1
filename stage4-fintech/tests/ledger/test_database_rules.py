"""The rules PostgreSQL enforces by itself, whatever code (or person) writes to it."""

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.rpc.client import LedgerClient
from tests.ledger.factories import fund, open_accounts, send, transfer


async def a_transfer(ledger: LedgerClient) -> tuple[str, str, str]:
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 100)
    [result] = await send(ledger, transfer(alice, bob, 40))
    return alice, bob, result.transfer.id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE entries SET amount = amount * 2 WHERE transfer_id = :id",
        "DELETE FROM entries WHERE transfer_id = :id",
    ],
)
async def test_entries_can_be_neither_changed_nor_deleted(
    ledger: LedgerClient, db_engine: AsyncEngine, statement: str
) -> None:
    _, _, transfer_id = await a_transfer(ledger)

    with pytest.raises(DBAPIError, match="ledger entries are immutable"):
        async with db_engine.begin() as connection:
            await connection.execute(text(statement), {"id": transfer_id})


async def test_entries_that_do_not_sum_to_zero_cannot_commit(
    ledger: LedgerClient, db_engine: AsyncEngine
) -> None:
    _, bob, transfer_id = await a_transfer(ledger)
    lopsided = (
        "INSERT INTO entries (transfer_id, account_id, currency, amount, balance_before,"
        " balance_after, account_version) VALUES (:transfer, :account, 'EUR', 5, 0, 5, 99)"
    )

    with pytest.raises(DBAPIError, match="do not sum to zero in EUR"):
        async with db_engine.begin() as connection:
            await connection.execute(text(lopsided), {"transfer": transfer_id, "account": bob})


ENTRY = "(:{t}, :{a}, 'EUR', :{m}, 0, :{m}, 99)"  # transfer, account, amount (before 0, after it)
ENTRIES = (
    "INSERT INTO entries (transfer_id, account_id, currency, amount, balance_before,"
    " balance_after, account_version) VALUES "
)


async def test_two_transfers_cannot_offset_each_other_in_one_statement(
    ledger: LedgerClient, db_engine: AsyncEngine
) -> None:
    """The check reads a whole statement's entries at once: each transfer must still sum
    to zero on its own, not merely all the statement's entries together."""
    alice, bob, first = await a_transfer(ledger)
    _, _, second = await a_transfer(ledger)
    offsetting = ENTRIES + ", ".join(ENTRY.format(t=f"t{n}", a=f"a{n}", m=f"m{n}") for n in (1, 2))
    values = {"t1": first, "a1": bob, "m1": 5, "t2": second, "a2": alice, "m2": -5}

    with pytest.raises(DBAPIError, match="do not sum to zero in EUR"):
        async with db_engine.begin() as connection:
            await connection.execute(text(offsetting), values)


async def test_a_transfer_written_in_one_statement_that_sums_to_zero_is_stored(
    ledger: LedgerClient, db_engine: AsyncEngine
) -> None:
    alice, bob, _ = await a_transfer(ledger)
    transfer_id = uuid.uuid4()
    by_hand = (
        "INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, currency,"
        " two_phase, timeout_seconds, state, posted_amount)"
        " VALUES (:id, :a, :b, 5, 'EUR', false, 0, 'posted', 5)"
    )
    balanced = ENTRIES + ", ".join(ENTRY.format(t="t", a=f"a{n}", m=f"m{n}") for n in (1, 2))

    async with db_engine.begin() as connection:
        await connection.execute(text(by_hand), {"id": transfer_id, "a": alice, "b": bob})
        await connection.execute(
            text(balanced), {"t": transfer_id, "a1": alice, "m1": -5, "a2": bob, "m2": 5}
        )
        stored = await connection.scalar(
            text("SELECT count(*) FROM entries WHERE transfer_id = :t"), {"t": transfer_id}
        )
    assert stored == 2


async def test_an_account_that_must_not_go_negative_cannot_even_by_hand(
    ledger: LedgerClient, db_engine: AsyncEngine
) -> None:
    alice, _, _ = await a_transfer(ledger)

    with pytest.raises(DBAPIError, match="ck_accounts_not_negative"):
        async with db_engine.begin() as connection:
            await connection.execute(
                text("UPDATE accounts SET balance = -1 WHERE id = :id"), {"id": alice}
            )


async def test_a_transfer_between_one_account_cannot_be_stored(
    ledger: LedgerClient, db_engine: AsyncEngine
) -> None:
    [alice] = await open_accounts(ledger, 1)
    same = (
        "INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, currency,"
        " two_phase, timeout_seconds, state, posted_amount)"
        " VALUES (:id, :a, :a, 1, 'EUR', false, 0, 'posted', 1)"
    )
    with pytest.raises(DBAPIError, match="ck_transfers_two_accounts"):
        async with db_engine.begin() as connection:
            await connection.execute(text(same), {"id": uuid.uuid4(), "a": alice})


BY_HAND_TRANSFER = (
    "INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, currency,"
    " two_phase, timeout_seconds, state, posted_amount)"
    " VALUES (:id, :debit, :credit, 5, :currency, false, 0, 'posted', 5)"
)
# A balanced pair of entries for a transfer, in one statement: the debit's account and
# version, the credit's, and their currency.
BY_HAND_ENTRIES = (
    "INSERT INTO entries (transfer_id, account_id, currency, amount, balance_before,"
    " balance_after, account_version) VALUES"
    " (:transfer, :debit, :currency, -5, 0, -5, :debit_version),"
    " (:transfer, :credit, :currency, 5, 0, 5, :credit_version)"
)


async def a_transfer_by_hand(db_engine: AsyncEngine, debit: str, credit: str) -> uuid.UUID:
    """A transfer of 5.00 EUR stored (committed) without its entries."""
    transfer_id = uuid.uuid4()
    async with db_engine.begin() as connection:
        await connection.execute(
            text(BY_HAND_TRANSFER),
            {"id": transfer_id, "debit": debit, "credit": credit, "currency": "EUR"},
        )
    return transfer_id


async def test_two_entries_cannot_claim_one_version_of_an_account(
    ledger: LedgerClient, db_engine: AsyncEngine
) -> None:
    alice, bob, _ = await a_transfer(ledger)
    async with db_engine.connect() as connection:
        taken = await connection.scalar(
            text("SELECT max(account_version) FROM entries WHERE account_id = :a"), {"a": alice}
        )
    transfer_id = await a_transfer_by_hand(db_engine, alice, bob)
    entries = {
        "transfer": transfer_id,
        "debit": alice,
        "credit": bob,
        "currency": "EUR",
        "debit_version": taken,
        "credit_version": 1_000,
    }

    with pytest.raises(IntegrityError, match="uq_entries_account_id_account_version"):
        async with db_engine.begin() as connection:
            await connection.execute(text(BY_HAND_ENTRIES), entries)


async def test_an_entry_cannot_be_in_another_currency_than_its_account(
    ledger: LedgerClient, db_engine: AsyncEngine
) -> None:
    alice, bob, _ = await a_transfer(ledger)
    transfer_id = await a_transfer_by_hand(db_engine, alice, bob)
    entries = {
        "transfer": transfer_id,
        "debit": alice,
        "credit": bob,
        "currency": "USD",  # summing to zero, in a currency neither account holds
        "debit_version": 1_000,
        "credit_version": 1_000,
    }

    with pytest.raises(IntegrityError, match="fk_entries_account_id_accounts"):
        async with db_engine.begin() as connection:
            await connection.execute(text(BY_HAND_ENTRIES), entries)


@pytest.mark.parametrize("side", ["debit", "credit"])
async def test_a_transfer_cannot_be_in_another_currency_than_its_accounts(
    ledger: LedgerClient, db_engine: AsyncEngine, side: str
) -> None:
    [euros] = await open_accounts(ledger, 1, currency="EUR")
    [dollars] = await open_accounts(ledger, 1, currency="USD")
    other = "credit" if side == "debit" else "debit"
    # In euros, with the dollar account on `side`.
    values = {"id": uuid.uuid4(), side: dollars, other: euros, "currency": "EUR"}

    with pytest.raises(IntegrityError, match=f"fk_transfers_{side}_account_id_accounts"):
        async with db_engine.begin() as connection:
            await connection.execute(text(BY_HAND_TRANSFER), values)

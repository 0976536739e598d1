"""Appending to the chain: one record per message id, numbered without gaps, each naming
the hash of the one before, never forked by concurrent writers, never changed after."""

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from audit.chain import GENESIS_HASH, Link, canonical_encoding, record_hash
from audit.records import append
from audit.verify import verify_chain
from tests.audit.chain import records
from tests.audit.producer import payment_completed

Sessions = async_sessionmaker[AsyncSession]


async def append_one(sessions: Sessions, message_id: uuid.UUID | None = None) -> None:
    async with sessions.begin() as session:
        await append(session, message_id or uuid.uuid4(), "payment.completed", payment_completed())


async def test_records_are_numbered_from_one_and_each_names_the_hash_of_the_one_before(
    sessions: Sessions,
) -> None:
    for _ in range(3):
        await append_one(sessions)

    chain = await records(sessions)
    assert [record.sequence for record in chain] == [1, 2, 3]
    assert chain[0].previous_hash == GENESIS_HASH
    assert [record.previous_hash for record in chain[1:]] == [record.hash for record in chain[:-1]]
    assert len({record.hash for record in chain}) == 3


def test_the_hash_is_sha256_of_the_documented_canonical_encoding() -> None:
    """Written out by hand, so a change of the encoding (which would break every chain
    already stored) cannot pass unnoticed."""
    link = Link(
        sequence=7,
        message_id=uuid.UUID("00000000-0000-4000-8000-000000000001"),
        event_type="payment.rejected",
        payload={"reason": "INSUFFICIENT_FUNDS", "amount": 5, "note": "é"},
        recorded_at=datetime(2026, 12, 2, 1, 15, tzinfo=UTC),
        previous_hash="ab" * 32,
    )
    assert canonical_encoding(link) == (
        b'{"event_type":"payment.rejected",'
        b'"message_id":"00000000-0000-4000-8000-000000000001",'
        b'"payload":{"amount":5,"note":"\\u00e9","reason":"INSUFFICIENT_FUNDS"},'
        b'"previous_hash":"' + b"ab" * 32 + b'",'
        b'"recorded_at":"2026-12-02T01:15:00.000000+00:00","sequence":7}'
    )
    assert record_hash(link) == hashlib.sha256(canonical_encoding(link)).hexdigest()


async def test_a_message_id_already_recorded_adds_nothing(sessions: Sessions) -> None:
    message_id = uuid.uuid4()
    await append_one(sessions, message_id)
    async with sessions.begin() as session:
        again = await append(session, message_id, "payment.completed", payment_completed())

    assert again is None
    assert [record.message_id for record in await records(sessions)] == [message_id]


async def test_a_rolled_back_append_leaves_no_gap(sessions: Sessions) -> None:
    async with sessions() as session:
        await append(session, uuid.uuid4(), "payment.completed", payment_completed())
        await session.rollback()
    await append_one(sessions)

    assert [record.sequence for record in await records(sessions)] == [1]


async def test_concurrent_appends_never_fork_the_chain(
    sessions: Sessions, db_engine: AsyncEngine
) -> None:
    """Forty writers at once: without the chain's lock, two of them read the same head
    and both take its number (the second fails on the primary key) or, numbered apart,
    name the same previous hash."""
    outcomes = await asyncio.gather(
        *(append_one(sessions) for _ in range(40)), return_exceptions=True
    )

    assert [repr(o) for o in outcomes if isinstance(o, BaseException)] == []

    chain = await records(sessions)
    assert [record.sequence for record in chain] == list(range(1, 41))
    verdict = await verify_chain(db_engine)
    assert verdict.valid, verdict.summary()
    assert verdict.records == 40


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_records SET payload = '{\"amount\": 1}' WHERE sequence = 1",
        "DELETE FROM audit_records WHERE sequence = 1",
        "TRUNCATE audit_records",
    ],
    ids=["update", "delete", "truncate"],
)
async def test_records_can_be_neither_changed_nor_removed_even_by_hand(
    sessions: Sessions, statement: str
) -> None:
    await append_one(sessions)
    with pytest.raises(DBAPIError, match="audit records are append-only"):
        async with sessions.begin() as session:
            await session.execute(text(statement))

    assert len(await records(sessions)) == 1


async def test_a_message_id_is_in_the_chain_once_even_by_hand(sessions: Sessions) -> None:
    """Behind the check `append` makes under the lock: the unique constraint."""
    await append_one(sessions)
    [first] = await records(sessions)
    with pytest.raises(IntegrityError, match="uq_audit_records_message_id"):
        async with sessions.begin() as session:
            await session.execute(
                text(
                    "INSERT INTO audit_records (sequence, message_id, event_type, payload,"
                    " recorded_at, previous_hash, hash)"
                    " SELECT 2, message_id, event_type, payload, recorded_at, hash, hash"
                    " FROM audit_records WHERE sequence = 1"
                )
            )
    assert [record.sequence for record in await records(sessions)] == [first.sequence]

"""`python -m audit verify`: a valid chain passes with its head named; every way of
tampering with it (by someone who can disable the triggers) is found, at the first
record it breaks, with the reason."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from audit.chain import Link, record_hash
from audit.records import append
from audit.verify import verify_chain
from tests.audit.chain import records
from tests.audit.producer import payment_completed

Sessions = async_sessionmaker[AsyncSession]
STAGE = Path(__file__).parents[2]


@pytest.fixture
async def five_records(sessions: Sessions) -> Sessions:
    for _ in range(5):
        async with sessions.begin() as session:
            await append(session, uuid.uuid4(), "payment.completed", payment_completed())
    return sessions


async def as_superuser(sessions: Sessions, *statements: str | TextClause) -> None:
    """What only a superuser can do: change the records with the triggers off."""
    async with sessions.begin() as session:
        await session.execute(text("ALTER TABLE audit_records DISABLE TRIGGER USER"))
        for statement in statements:
            await session.execute(text(statement) if isinstance(statement, str) else statement)
        await session.execute(text("ALTER TABLE audit_records ENABLE TRIGGER USER"))


async def test_an_intact_chain_is_valid_and_its_head_named(
    five_records: Sessions, db_engine: AsyncEngine
) -> None:
    verdict = await verify_chain(db_engine)

    head = (await records(five_records))[-1]
    assert verdict.valid
    assert (verdict.records, verdict.head_sequence, verdict.head_hash) == (5, 5, head.hash)
    assert verdict.summary() == f"audit chain valid: 5 records, head 5 {head.hash}"


async def test_an_empty_chain_is_valid(sessions: Sessions, db_engine: AsyncEngine) -> None:
    verdict = await verify_chain(db_engine)
    assert verdict.valid
    assert verdict.records == 0


async def test_an_edited_payload_is_a_hash_mismatch_at_that_record(
    five_records: Sessions, db_engine: AsyncEngine
) -> None:
    await as_superuser(
        five_records,
        "UPDATE audit_records SET payload = jsonb_set(payload, '{amount}', '1') WHERE sequence = 3",
    )

    verdict = await verify_chain(db_engine)
    assert verdict.broken is not None
    assert (verdict.broken.sequence, verdict.broken.check) == (3, "hash")
    assert verdict.records == 2


async def test_an_edit_with_its_hash_recomputed_breaks_the_next_link(
    five_records: Sessions, db_engine: AsyncEngine
) -> None:
    """The forger recomputes the edited record's own hash: the next record still names
    the old one."""
    edited = (await records(five_records))[2]
    payload = {**edited.payload, "amount": 1}
    forged = record_hash(
        Link(
            sequence=edited.sequence,
            message_id=edited.message_id,
            event_type=edited.event_type,
            payload=payload,
            recorded_at=edited.recorded_at,
            previous_hash=edited.previous_hash,
        )
    )
    await as_superuser(
        five_records,
        text(
            "UPDATE audit_records SET payload = jsonb_set(payload, '{amount}', '1'),"
            " hash = :forged WHERE sequence = 3"
        ).bindparams(forged=forged),
    )

    verdict = await verify_chain(db_engine)
    assert verdict.broken is not None
    assert (verdict.broken.sequence, verdict.broken.check) == (4, "previous_hash")


async def test_a_deleted_record_is_a_gap(five_records: Sessions, db_engine: AsyncEngine) -> None:
    await as_superuser(five_records, "DELETE FROM audit_records WHERE sequence = 3")

    verdict = await verify_chain(db_engine)
    assert verdict.broken is not None
    assert (verdict.broken.sequence, verdict.broken.check) == (4, "gap")
    assert "expected sequence 3, found 4" in str(verdict.broken)


async def test_two_records_swapped_break_the_chain_where_the_first_moved(
    five_records: Sessions, db_engine: AsyncEngine
) -> None:
    await as_superuser(
        five_records,
        "UPDATE audit_records SET sequence = 1000 WHERE sequence = 2",
        "UPDATE audit_records SET sequence = 2 WHERE sequence = 3",
        "UPDATE audit_records SET sequence = 3 WHERE sequence = 1000",
    )

    verdict = await verify_chain(db_engine)
    assert verdict.broken is not None
    assert (verdict.broken.sequence, verdict.broken.check) == (2, "previous_hash")


async def test_a_first_record_that_names_a_predecessor_is_refused(
    five_records: Sessions, db_engine: AsyncEngine
) -> None:
    """The records before it deleted, and the rest renumbered from 1: only the genesis
    hash gives it away (and each record's own hash, which covers its sequence)."""
    await as_superuser(five_records, "DELETE FROM audit_records WHERE sequence = 1")
    await as_superuser(five_records, "UPDATE audit_records SET sequence = sequence - 1")

    verdict = await verify_chain(db_engine)
    assert verdict.broken is not None
    assert (verdict.broken.sequence, verdict.broken.check) == (1, "previous_hash")


def verify_command(database_url: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "AUDIT_DATABASE_URL": database_url,
        "AUDIT_ENVIRONMENT": "test",
    }
    return subprocess.run(
        [sys.executable, "-m", "audit", "verify"],
        cwd=STAGE,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_the_command_exits_0_on_a_valid_chain_and_1_naming_the_first_break(
    five_records: Sessions, database_url: str
) -> None:
    valid = verify_command(database_url)
    assert valid.returncode == 0, valid.stderr
    assert valid.stdout.startswith("audit chain valid: 5 records, head 5 ")

    await as_superuser(five_records, "DELETE FROM audit_records WHERE sequence = 2")
    broken = verify_command(database_url)
    assert broken.returncode == 1
    assert "record 3: gap: expected sequence 2, found 3" in broken.stderr

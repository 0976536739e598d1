"""`python -m audit verify`: walks the chain from the first record and checks every link.

For each record, in sequence order, three checks, the first failing one reported:

1. `gap`: its sequence is the one after the previous record's (1 for the first); a
   missing number is a deleted record, a repeated or swapped one a reordering.
2. `previous_hash`: it names the hash of the record before (`GENESIS_HASH` for the first).
3. `hash`: its stored hash is the one recomputed from its contents (`audit.chain`); a
   mismatch is a record edited in place.

The chain is read in one REPEATABLE READ transaction (one snapshot, however long the walk
and whatever is appended meanwhile), a page at a time, so memory stays flat however long
the chain is. Exit status 0 and a summary naming the head (its sequence and hash: keep it
elsewhere, a later run must find it again); 1 and the first broken record otherwise.

What the chain cannot show by itself: records removed from the end. The head printed by
the last run, kept outside this database, is what proves nothing was cut off.
"""

import asyncio
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from audit.chain import GENESIS_HASH, Link, record_hash
from audit.config import Settings
from audit.models import AuditRecord
from roadmap_shared.database import Database
from roadmap_shared.preflight import load_settings, require_services, required_services

PAGE_SIZE = 1000


@dataclass(frozen=True)
class Break:
    sequence: int  # the first broken record's, as stored
    check: str  # "gap", "previous_hash" or "hash"
    detail: str

    def __str__(self) -> str:
        return f"record {self.sequence}: {self.detail}"


@dataclass(frozen=True)
class Verdict:
    records: int  # how many were read before the first break, or in all
    head_sequence: int  # 0 for an empty chain
    head_hash: str
    broken: Break | None

    @property
    def valid(self) -> bool:
        return self.broken is None

    def summary(self) -> str:
        if self.broken is not None:
            return f"audit chain BROKEN after {self.records} valid records: {self.broken}"
        return (
            f"audit chain valid: {self.records} records, head {self.head_sequence} {self.head_hash}"
        )


def check(record: AuditRecord, expected_sequence: int, expected_previous: str) -> Break | None:
    if record.sequence != expected_sequence:
        return Break(
            record.sequence,
            "gap",
            f"gap: expected sequence {expected_sequence}, found {record.sequence}",
        )
    if record.previous_hash != expected_previous:
        return Break(
            record.sequence,
            "previous_hash",
            f"previous_hash mismatch: it names {record.previous_hash}, "
            f"the record before is {expected_previous}",
        )
    recomputed = record_hash(
        Link(
            sequence=record.sequence,
            message_id=record.message_id,
            event_type=record.event_type,
            payload=record.payload,
            recorded_at=record.recorded_at,
            previous_hash=record.previous_hash,
        )
    )
    if record.hash != recomputed:
        return Break(
            record.sequence,
            "hash",
            f"hash mismatch: stored {record.hash}, its contents hash to {recomputed}",
        )
    return None


async def records_in_order(session: AsyncSession) -> AsyncIterator[AuditRecord]:
    after = 0
    while True:
        page = list(
            await session.scalars(
                select(AuditRecord)
                .where(AuditRecord.sequence > after)
                .order_by(AuditRecord.sequence)
                .limit(PAGE_SIZE)
            )
        )
        for record in page:
            yield record
        if len(page) < PAGE_SIZE:
            return
        after = page[-1].sequence
        session.expunge_all()  # the records checked so far are not needed again


async def verify_chain(engine: AsyncEngine) -> Verdict:
    sessions = async_sessionmaker(
        engine.execution_options(isolation_level="REPEATABLE READ"), expire_on_commit=False
    )
    expected_sequence, expected_previous, valid = 1, GENESIS_HASH, 0
    async with sessions.begin() as session:
        async for record in records_in_order(session):
            if (broken := check(record, expected_sequence, expected_previous)) is not None:
                return Verdict(valid, expected_sequence - 1, expected_previous, broken)
            valid += 1
            expected_sequence, expected_previous = record.sequence + 1, record.hash
    return Verdict(valid, expected_sequence - 1, expected_previous, None)


async def run(settings: Settings) -> Verdict:
    database = Database.from_settings(settings)
    try:
        return await verify_chain(database.engine)
    finally:
        await database.dispose()


def main() -> int:
    """Checks the settings and that PostgreSQL answers (one line if not), then verifies."""
    settings = load_settings("audit")
    if not isinstance(settings, Settings):
        raise TypeError(settings)
    require_services([s for s in required_services(settings) if s.name == "PostgreSQL"])
    verdict = asyncio.run(run(settings))
    print(verdict.summary(), file=sys.stdout if verdict.valid else sys.stderr)
    return 0 if verdict.valid else 1

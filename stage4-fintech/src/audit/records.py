"""Appending to the chain: one writer at a time, in the caller's transaction."""

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from audit.chain import GENESIS_HASH, Link, record_hash
from audit.models import AuditRecord
from roadmap_shared.database import utcnow

# The key of the transaction-level advisory lock every append takes: any number fixed for
# this chain ("audit" in ASCII). Held until the transaction commits or rolls back.
CHAIN_LOCK = 0x6175646974


async def append(
    session: AsyncSession, message_id: uuid.UUID, event_type: str, payload: dict[str, Any]
) -> AuditRecord | None:
    """Appends the event as the chain's next record; None if `message_id` is recorded.

    Two appends that read the same head would both take its sequence + 1: the primary key
    refuses the second (the chain cannot fork), which then fails and is retried, again and
    again under load. So each append first takes the chain's lock, and reads the head
    only once it holds it; under READ COMMITTED that read sees what the previous holder
    committed. The lock is released when the caller's transaction ends, with the record
    committed (or rolled back, leaving no gap)."""
    await session.execute(select(func.pg_advisory_xact_lock(CHAIN_LOCK)))
    recorded = select(AuditRecord.sequence).filter_by(message_id=message_id)
    if await session.scalar(recorded) is not None:
        return None
    head = (
        await session.execute(
            select(AuditRecord.sequence, AuditRecord.hash)
            .order_by(AuditRecord.sequence.desc())
            .limit(1)
        )
    ).first()
    sequence, previous_hash = (head.sequence + 1, head.hash) if head else (1, GENESIS_HASH)
    link = Link(
        sequence=sequence,
        message_id=message_id,
        event_type=event_type,
        payload=payload,
        # PostgreSQL keeps microseconds, as Python does: the value read back is the value
        # hashed.
        recorded_at=utcnow(),
        previous_hash=previous_hash,
    )
    record = AuditRecord(
        sequence=link.sequence,
        message_id=link.message_id,
        event_type=link.event_type,
        payload=link.payload,
        recorded_at=link.recorded_at,
        previous_hash=link.previous_hash,
        hash=record_hash(link),
    )
    session.add(record)
    await session.flush()
    return record

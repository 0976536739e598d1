"""The inbox table's queries: store once, claim, finish, retry, sweep, prune.

The worker claims events in one short transaction (`processing`, `claimed_at`), handles
each in another, and marks it `processed` in that same second transaction. A worker that
dies between the two leaves the event `processing`: the sweeper hands it back to the queue
once it has been claimed for longer than any handling takes.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from billing.models import InboxStatus, WebhookEvent


async def store(
    session: AsyncSession, *, event_id: str, type_: str, created: int, payload: dict[str, Any]
) -> bool:
    """Stores the event unless its id is already there; True if it was new. `ON CONFLICT DO
    NOTHING` makes ten simultaneous deliveries of one event store one row, with no error."""
    result = await session.execute(
        insert(WebhookEvent)
        .values(id=event_id, type=type_, created=created, payload=payload)
        .on_conflict_do_nothing(index_elements=[WebhookEvent.id])
        .returning(WebhookEvent.id)
    )
    return result.scalar_one_or_none() is not None


async def claim(session: AsyncSession, *, now: datetime, limit: int) -> Sequence[str]:
    """Marks up to `limit` due events as being processed and returns their ids. `SKIP
    LOCKED`: two workers claiming at once take different events, and neither waits."""
    due = (
        select(WebhookEvent.id)
        .where(WebhookEvent.status == InboxStatus.PENDING, WebhookEvent.next_attempt_at <= now)
        .order_by(WebhookEvent.created, WebhookEvent.received_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = await session.scalars(
        update(WebhookEvent)
        .where(WebhookEvent.id.in_(due.scalar_subquery()))
        .values(status=InboxStatus.PROCESSING, claimed_at=now, attempts=WebhookEvent.attempts + 1)
        .returning(WebhookEvent.id)
    )
    return result.all()


async def get_claimed(session: AsyncSession, event_id: str) -> WebhookEvent | None:
    """The event if it is still ours to process, its row locked meanwhile."""
    result = await session.scalars(
        select(WebhookEvent)
        .where(WebhookEvent.id == event_id, WebhookEvent.status == InboxStatus.PROCESSING)
        .with_for_update(skip_locked=True)
    )
    return result.one_or_none()


async def mark_processed(session: AsyncSession, event_id: str, *, now: datetime) -> None:
    await session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == event_id)
        .values(status=InboxStatus.PROCESSED, processed_at=now, last_error=None)
    )


async def mark_failed_attempt(
    session: AsyncSession, event_id: str, *, error: str, retry_at: datetime | None
) -> None:
    """Back to the queue at `retry_at`, or `failed` for good when there is none."""
    await session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == event_id, WebhookEvent.status == InboxStatus.PROCESSING)
        .values(
            status=InboxStatus.FAILED if retry_at is None else InboxStatus.PENDING,
            next_attempt_at=retry_at or WebhookEvent.next_attempt_at,
            last_error=error[:2000],
        )
    )


async def requeue_stuck(session: AsyncSession, *, claimed_before: datetime) -> int:
    result = await session.execute(
        update(WebhookEvent)
        .where(
            WebhookEvent.status == InboxStatus.PROCESSING,
            WebhookEvent.claimed_at < claimed_before,
        )
        .values(status=InboxStatus.PENDING)
    )
    return int(getattr(result, "rowcount", 0))


async def prune(session: AsyncSession, *, processed_before: datetime) -> int:
    result = await session.execute(
        delete(WebhookEvent).where(
            WebhookEvent.status == InboxStatus.PROCESSED,
            WebhookEvent.processed_at < processed_before,
        )
    )
    return int(getattr(result, "rowcount", 0))


def retry_delay(attempt: int, *, base_seconds: int) -> timedelta:
    """Exponential backoff: base, 2 x base, 4 x base, ... capped at a day."""
    return timedelta(seconds=min(base_seconds * 2 ** (attempt - 1), 24 * 3600))

"""The outbox relay: moves committed outbox rows onto the job queue.

It runs in the worker every second (a polling publisher). A row is visible to it only once
the transaction that wrote it has committed, which is the whole point of the outbox.

Delivery is at least once: if the relay enqueues a job and then fails before recording
that, the row is sent again. The arq job id is derived from the row id, so while arq
still remembers the first job (until its result expires) the duplicate is dropped; the
jobs themselves are written to be harmless when repeated anyway.
"""

from collections.abc import Awaitable
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.database import utcnow
from shop.models import OutboxMessage

BATCH_SIZE = 100


class JobQueue(Protocol):
    def enqueue_job(
        self, function: str, *args: Any, _job_id: str | None = None, **kwargs: Any
    ) -> Awaitable[object]: ...


async def publish_pending(session: AsyncSession, queue: JobQueue) -> int:
    """Enqueues up to `BATCH_SIZE` unpublished messages, oldest first; returns how many."""
    # SKIP LOCKED: two relays running at once (two workers) take different rows instead
    # of queueing behind each other or sending the same rows twice.
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.published_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(BATCH_SIZE)
        .with_for_update(skip_locked=True)
    )
    messages = (await session.scalars(query)).all()
    for message in messages:
        await queue.enqueue_job(message.task, _job_id=f"outbox:{message.id}", **message.payload)
        message.published_at = utcnow()
    return len(messages)

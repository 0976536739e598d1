"""The transactional outbox: a job to run if, and only when, the current transaction commits.

Enqueueing straight to Redis from a request has two failure modes: the job runs before
the change is committed (and cannot find it), or the transaction rolls back after the job
was sent (an email about something that never happened). A row written in the same
transaction as the change has neither: it commits with the change or not at all.

Each stage that uses it has an `outbox_messages` table of its own (a model built on
`OutboxMessageMixin`); its worker runs `publish_pending` every second or so (a polling
publisher), which moves committed rows onto the job queue. A row is visible to it only
once the transaction that wrote it has committed, which is the whole point.

Delivery is at least once: if the relay enqueues a job and then fails before recording
that, the row is sent again. The arq job id is derived from the row id, so while arq
still remembers the first job (until its result expires) the duplicate is dropped; the
jobs themselves are written to be harmless when repeated anyway (an email has a fixed
Message-ID).
"""

from collections.abc import Awaitable
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from roadmap_shared.database import TimestampMixin, utcnow

BATCH_SIZE = 100


class OutboxMessageMixin(TimestampMixin):
    """The columns of a stage's outbox table: `class OutboxMessage(OutboxMessageMixin, Base)`."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # The name of the job function that handles it, e.g. "send_order_confirmation".
    task: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index]:
        # The relay's query: unpublished messages, oldest first. Published rows, the vast
        # majority, are not in this index at all.
        return (
            Index("ix_outbox_messages_unpublished", "id", postgresql_where="published_at IS NULL"),
        )


Message = TypeVar("Message", bound=OutboxMessageMixin)


def add(session: AsyncSession, model: type[Message], task: str, **arguments: int | str) -> Message:
    """Queues `task(**arguments)` to run after this session's transaction commits."""
    message = model()
    message.task = task
    message.payload = arguments
    session.add(message)
    return message


class JobQueue(Protocol):
    def enqueue_job(
        self, function: str, *args: Any, _job_id: str | None = None, **kwargs: Any
    ) -> Awaitable[object]: ...


async def publish_pending(
    session: AsyncSession, queue: JobQueue, model: type[OutboxMessageMixin]
) -> int:
    """Enqueues up to `BATCH_SIZE` unpublished messages, oldest first; returns how many."""
    # SKIP LOCKED: two relays running at once (two workers) take different rows instead
    # of queueing behind each other or sending the same rows twice.
    query = (
        select(model)
        .where(model.published_at.is_(None))
        .order_by(model.id)
        .limit(BATCH_SIZE)
        .with_for_update(skip_locked=True)
    )
    messages = (await session.scalars(query)).all()
    for message in messages:
        await queue.enqueue_job(message.task, _job_id=f"outbox:{message.id}", **message.payload)
        message.published_at = utcnow()
    return len(messages)

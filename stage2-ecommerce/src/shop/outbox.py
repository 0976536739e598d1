"""Writing to the shop's outbox: a job to run if, and only when, the current transaction
commits (why, in roadmap_shared.outbox). A row in the same transaction as the order
commits with the order or not at all; the relay moves committed rows to the job queue."""

from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared import outbox
from shop.models import OutboxMessage


def add(session: AsyncSession, task: str, **arguments: int | str) -> None:
    """Queues `task(**arguments)` to run after this session's transaction commits."""
    outbox.add(session, OutboxMessage, task, **arguments)

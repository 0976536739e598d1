"""Writing to the outbox: a job to run if, and only when, the current transaction commits.

Enqueueing straight to Redis from a request has two failure modes: the job runs before
the order is committed (and cannot find it), or the transaction rolls back after the job
was sent (an email for an order that does not exist). A row in the same transaction as
the order has neither: it commits with the order or not at all. The relay moves
committed rows to the job queue (shop.jobs.relay).
"""

from sqlalchemy.ext.asyncio import AsyncSession

from shop.models import OutboxMessage


def add(session: AsyncSession, task: str, **arguments: int | str) -> None:
    """Queues `task(**arguments)` to run after this session's transaction commits."""
    session.add(OutboxMessage(task=task, payload=arguments))

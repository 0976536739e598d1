from roadmap_shared.outbox import OutboxMessageMixin
from shop.models.base import Base


class OutboxMessage(OutboxMessageMixin, Base):
    """A job to run once the transaction that wrote it has committed (the outbox pattern,
    roadmap_shared.outbox).

    Written in the same transaction as the change it announces, so the two commit or roll
    back together; the relay (`relay_outbox` in shop.jobs.tasks) hands committed rows to
    the job queue.
    """

from billing.models.base import Base
from roadmap_shared.outbox import OutboxMessageMixin


class OutboxMessage(OutboxMessageMixin, Base):
    """An email (or any job) to send once the change it announces has committed: written
    in the same transaction as that change, relayed to the job queue by the worker
    (the outbox pattern, roadmap_shared.outbox)."""

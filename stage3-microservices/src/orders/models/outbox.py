from orders.models.base import Base
from roadmap_shared.messaging import OutboxEventMixin


class OutboxEvent(OutboxEventMixin, Base):
    """The events this service announces (`order.placed`), each written in the same
    transaction as the change it announces, so neither exists without the other. The
    relay (`python -m orders.worker`) publishes them: see roadmap_shared.messaging."""

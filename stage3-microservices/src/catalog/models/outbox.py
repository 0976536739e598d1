from catalog.models.base import Base
from roadmap_shared.messaging import OutboxEventMixin


class OutboxEvent(OutboxEventMixin, Base):
    """The events this service announces (`stock.low`), each written in the transaction
    of the change it announces. The relay (`python -m catalog.worker`) publishes them."""

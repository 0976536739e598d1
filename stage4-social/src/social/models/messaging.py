from roadmap_shared.messaging import OutboxEventMixin, ProcessedMessageMixin
from social.models.base import Base


class OutboxEvent(OutboxEventMixin, Base):
    """`post.created`, written in the transaction of the post; the relay
    (`python -m social.worker`) publishes it: see roadmap_shared.messaging."""


class ProcessedMessage(ProcessedMessageMixin, Base):
    """The events the fan-out consumer has handled: a redelivered one is skipped."""

"""Writing an event in the transaction of the change it announces."""

import uuid
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared import tracing
from roadmap_shared.messaging.models import OutboxEventMixin

OutboxEvent = TypeVar("OutboxEvent", bound=OutboxEventMixin)


def add_event(
    session: AsyncSession,
    model: type[OutboxEvent],
    event_type: str,
    payload: dict[str, Any],
    *,
    traceparent: str | None = None,
) -> OutboxEvent:
    """Adds `event_type` (also its routing key, "order.placed") to the session: it is
    committed with the change, or rolled back with it, and published only once committed.

    `traceparent`: the W3C trace context the event belongs to; by default the current
    span's (the request that made the change). The relay, later and in another process,
    publishes the event as a child of it, so the consumer's work joins the request's trace.
    """
    event = model()
    # Set now rather than at flush, so the caller can log or return it.
    event.message_id = uuid.uuid4()
    event.event_type = event_type
    event.payload = payload
    event.traceparent = traceparent or tracing.inject().get("traceparent")
    session.add(event)
    return event

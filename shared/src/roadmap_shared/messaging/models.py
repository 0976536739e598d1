"""The two tables a service needs: its outbox, and the messages it has already handled.

Each service declares them on its own `Base`, so they live in its own database and its
own migrations: `class OutboxEvent(OutboxEventMixin, Base)`,
`class ProcessedMessage(ProcessedMessageMixin, Base)`.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from roadmap_shared.database import utcnow

# AMQP caps a routing key at 255 bytes; event types are far shorter ("order.placed").
EVENT_TYPE_LENGTH = 100
# W3C Trace Context: "00-<32 hex>-<16 hex>-<2 hex>" is 55 characters.
TRACEPARENT_LENGTH = 55


class OutboxEventMixin:
    __tablename__ = "outbox_events"

    # The order events are published in: an identity, never reused, strictly increasing
    # in the order rows are inserted (not in the order their transactions commit).
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # Sent as the AMQP message id: what consumers deduplicate on. A row published twice
    # (the relay died before marking it) carries the same id both times.
    message_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    event_type: Mapped[str] = mapped_column(String(EVENT_TYPE_LENGTH))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # The trace the change happened in, so the consumer's work joins it (may be absent).
    traceparent: Mapped[str | None] = mapped_column(String(TRACEPARENT_LENGTH))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index]:
        # The relay's only query: unpublished rows, oldest first. Published rows, nearly
        # all of them, are not in this index at all.
        return (
            Index("ix_outbox_events_unpublished", "id", postgresql_where="published_at IS NULL"),
        )


class ProcessedMessageMixin:
    __tablename__ = "processed_messages"

    # One row per (consumer, message): two consumers of one database may each handle the
    # same event once.
    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )

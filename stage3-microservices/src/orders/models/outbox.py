import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from orders.models.base import Base
from roadmap_shared.database import TimestampMixin


class OutboxMessage(TimestampMixin, Base):
    """An event to publish once the transaction that wrote it has committed (the outbox
    pattern, see roadmap_shared.outbox): `order.placed` is written in the same transaction
    as the order it announces, so neither exists without the other.

    A relay publishes committed rows to RabbitMQ and marks them published. It may publish
    a row twice (a crash between publishing and marking it), so each event carries a
    `message_id` fixed here, by which consumers recognise a duplicate.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # The relay's query: unpublished messages, oldest first. Published rows, the vast
        # majority, are not in this index at all.
        Index("ix_outbox_messages_unpublished", "id", postgresql_where="published_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    # The routing key, e.g. "order.placed".
    event_type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

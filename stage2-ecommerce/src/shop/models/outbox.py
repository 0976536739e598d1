from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from roadmap_shared.database import TimestampMixin
from shop.models.base import Base, IntegerIdMixin


class OutboxMessage(IntegerIdMixin, TimestampMixin, Base):
    """A job to run once the transaction that wrote it has committed (the outbox pattern).

    Written in the same transaction as the change it announces, so the two commit or roll
    back together; the relay (shop.jobs.relay) hands committed rows to the job queue.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # The relay's query: unpublished messages, oldest first. Published rows, the vast
        # majority, are not in this index at all.
        Index(
            "ix_outbox_messages_unpublished",
            "id",
            postgresql_where="published_at IS NULL",
        ),
    )

    # The name of the job function that handles it, e.g. "send_order_confirmation".
    task: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

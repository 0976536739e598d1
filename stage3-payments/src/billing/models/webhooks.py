from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from billing.models.base import Base, string_enum
from roadmap_shared.database import utcnow


class InboxStatus(StrEnum):
    PENDING = "pending"  # stored, waiting for the worker (or for its next attempt)
    PROCESSING = "processing"  # claimed by a worker
    PROCESSED = "processed"
    FAILED = "failed"  # gave up after the last attempt; kept for a person to look at


class WebhookEvent(Base):
    """The inbox: each Stripe event stored once, under Stripe's own id, before it is acted
    on. Not tenant data: an event names its organisation only inside its object."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        Index("ix_webhook_events_status_next_attempt_at", "status", "next_attempt_at"),
    )

    # Stripe's event id is the primary key: a second delivery of the same event is a
    # conflict on insert, so it is stored (and acted on) once, however many arrive at once.
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    # The event's `created` (Unix seconds), used to ignore events older than what we have.
    created: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[InboxStatus] = mapped_column(
        string_enum(InboxStatus, "inbox_status"), default=InboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )

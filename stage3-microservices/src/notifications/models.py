"""The service's own tables: the messages it has handled, and the emails it has sent."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, String, Uuid, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from roadmap_shared.database import new_metadata, utcnow
from roadmap_shared.messaging import ProcessedMessageMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class ProcessedMessage(ProcessedMessageMixin, Base):
    pass


class SentEmail(Base):
    """One row per email handed to the mail server: what support looks at when a
    customer says they got nothing (or two)."""

    __tablename__ = "sent_emails"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # The event that caused it: at most one email per event (the processed-messages row
    # of the same transaction sees to that).
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    recipients: Mapped[str] = mapped_column(String(1000))
    subject: Mapped[str] = mapped_column(String(300))
    # The email's own Message-ID, fixed per logical email (`order-7-confirmation`).
    email_message_id: Mapped[str] = mapped_column(String(300))
    sent_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )

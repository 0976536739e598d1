from datetime import datetime

from sqlalchemy import DateTime, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from auth_service.models.base import Base
from roadmap_shared.database import utcnow


class OutboxEmail(Base):
    """An email the service has decided to send (the transactional outbox).

    It is written in the same transaction as the change it announces, so a password reset
    link is never emailed for a token that was rolled back, and never lost for one that was
    committed. Delivery happens after the commit (see `emails/service.py`), and empties
    `body`: a sent email's link must not stay readable here.
    """

    __tablename__ = "outbox_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)

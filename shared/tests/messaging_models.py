"""Tables for the messaging tests: an outbox, a consumer's processed messages, and the
effect a handler has (one row per run of the handler, so a duplicate shows as two)."""

import uuid

from sqlalchemy import BigInteger, Identity, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from roadmap_shared.database import new_metadata
from roadmap_shared.messaging import OutboxEventMixin, ProcessedMessageMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class OutboxEvent(OutboxEventMixin, Base):
    pass


class ProcessedMessage(ProcessedMessageMixin, Base):
    pass


class Effect(Base):
    __tablename__ = "effects"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(Uuid)

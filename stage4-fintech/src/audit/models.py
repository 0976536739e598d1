"""The service's own tables: the messages it has handled, and the audit chain."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, String, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from roadmap_shared.database import new_metadata
from roadmap_shared.messaging import ProcessedMessageMixin
from roadmap_shared.messaging.models import EVENT_TYPE_LENGTH

# A SHA-256 digest in lowercase hexadecimal.
HASH_LENGTH = 64


class Base(DeclarativeBase):
    metadata = new_metadata()


class ProcessedMessage(ProcessedMessageMixin, Base):
    pass


class AuditRecord(Base):
    """One event, as it was received, chained to the record before it.

    Rows are only ever inserted (the trigger `audit_records_are_append_only`, in the
    first migration, refuses UPDATE, DELETE and TRUNCATE). `hash` covers every other
    column, `previous_hash` included (see `audit.chain.record_hash`)."""

    __tablename__ = "audit_records"
    __table_args__ = (
        CheckConstraint("sequence >= 1", name="sequence_positive"),
        CheckConstraint(f"hash ~ '^[0-9a-f]{{{HASH_LENGTH}}}$'", name="hash_is_sha256_hex"),
    )

    # 1, 2, 3, ... without gaps, chosen under the chain's lock (`audit.records.append`).
    # Not an identity column: a rolled-back transaction would consume a number, and a gap
    # must mean a deleted record, nothing else.
    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # The AMQP message id: the same event delivered twice is one record.
    message_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    event_type: Mapped[str] = mapped_column(String(EVENT_TYPE_LENGTH))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    previous_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    hash: Mapped[str] = mapped_column(String(HASH_LENGTH))

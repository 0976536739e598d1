from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from roadmap_shared.database import TimestampMixin
from shop.models.base import Base, IntegerIdMixin


class IdempotencyKey(IntegerIdMixin, TimestampMixin, Base):
    """The first response to a request sent with an `Idempotency-Key`, to replay on retries."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        # Two requests with one key cannot both insert: the second waits for the first's
        # transaction, then finds its row. This constraint is what makes retries safe.
        UniqueConstraint("user_id", "key"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    # A hash of the request (method, path, body): the same key with another body is a bug.
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    # Empty while the first request is still running; its transaction fills them in before
    # committing, so no other transaction ever sees them empty.
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

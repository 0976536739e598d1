"""Single-use tokens sent by email: password reset links and email verification links.

Like refresh tokens they are random, stored only as a SHA-256 hash, and expire. They are
used up by one conditional UPDATE, so two requests racing with the same link cannot both
succeed.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from auth_service.models.base import Base, pg_enum
from roadmap_shared.database import utcnow


class EmailTokenPurpose(StrEnum):
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a name, not a secret)
    EMAIL_VERIFICATION = "email_verification"


class EmailToken(Base):
    __tablename__ = "email_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[EmailTokenPurpose] = mapped_column(
        pg_enum(EmailTokenPurpose, "email_token_purpose")
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

"""Login sessions and their refresh tokens.

A `LoginSession` is one sign-in on one device: every access token carries its id (`sid`),
and revoking the session makes all of them fail at once. Its refresh tokens form a family:
each refresh uses one up and issues the next. A used token presented again means two
parties hold the same token, one of them a thief, so the whole session is revoked.
"""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auth_service.models.base import Base
from roadmap_shared.database import TimestampMixin, utcnow


class SessionEndReason(StrEnum):
    # Stored as text, not as a database enum: reasons are for people reading the table, and
    # adding one should not need a migration.
    LOGOUT = "logout"
    LOGOUT_ALL = "logout_all"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 (names, not secrets)
    PASSWORD_RESET = "password_reset"  # noqa: S105
    DEACTIVATED = "deactivated"
    REFRESH_TOKEN_REUSED = "refresh_token_reused"  # noqa: S105


class LoginSession(TimestampMixin, Base):
    __tablename__ = "login_sessions"

    # Random, not sequential: the id travels inside tokens and says nothing about others.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(32))

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("login_sessions.id", ondelete="CASCADE"), index=True
    )
    # SHA-256 of the token, hex. The token itself is never stored: a copy of this table
    # does not let anyone sign in.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Set when the token is exchanged for the next one; it must never be accepted again.
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    session: Mapped[LoginSession] = relationship(lazy="raise")

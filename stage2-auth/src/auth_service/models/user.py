from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, String, true
from sqlalchemy.orm import Mapped, mapped_column

from auth_service.models.base import Base, pg_enum
from roadmap_shared.database import TimestampMixin


class UserRole(StrEnum):
    USER = "user"
    ADMIN = "admin"


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised (trimmed and lower-cased by `auth.emails.normalise_email`), so this
    # plain unique constraint makes addresses unique case-insensitively. 320 characters is
    # the longest address RFC 5321 allows.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[UserRole] = mapped_column(pg_enum(UserRole, "user_role"), default=UserRole.USER)
    # A deactivated user cannot sign in, and every token they hold stops working.
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def is_admin(self) -> bool:
        return self.role is UserRole.ADMIN

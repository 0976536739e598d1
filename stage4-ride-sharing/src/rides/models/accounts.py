from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from rides.models.base import Base, IntegerIdMixin, string_enum
from roadmap_shared.database import TimestampMixin


class Role(StrEnum):
    """Fixed at sign-up: a person who drives and rides keeps two accounts, so a driver's
    token can never request a trip and a rider's can never open the driver socket."""

    RIDER = "rider"
    DRIVER = "driver"


class User(IntegerIdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    # Stored lower-cased (see users.service), so the unique index is case-insensitive.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(string_enum(Role, "user_role"))

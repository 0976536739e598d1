from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from billing.models.base import Base, IntegerIdMixin
from roadmap_shared.database import TimestampMixin


class User(IntegerIdMixin, TimestampMixin, Base):
    """A person. Not tenant data: one user may belong to several organisations."""

    __tablename__ = "users"

    # Stored lower-cased (see users.service), so the unique index is case-insensitive.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))

from sqlalchemy import CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from roadmap_shared.database import TimestampMixin
from social.models.base import Base, IntegerIdMixin

USERNAME_MAX_LENGTH = 30
DISPLAY_NAME_MAX_LENGTH = 100
BIO_MAX_LENGTH = 500


class User(IntegerIdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("followers_count >= 0", name="followers_count_not_negative"),
        CheckConstraint("following_count >= 0", name="following_count_not_negative"),
    )

    # Both stored lower-cased (see users.service), so the unique indexes ignore case.
    username: Mapped[str] = mapped_column(String(USERNAME_MAX_LENGTH), unique=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(DISPLAY_NAME_MAX_LENGTH))
    bio: Mapped[str] = mapped_column(Text, default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    # Kept in step with `follows` in the transaction that changes it (graph.repository):
    # a profile shows them, and a post's fan-out mode is chosen by the first, without a
    # COUNT(*) over a famous account's millions of rows.
    followers_count: Mapped[int] = mapped_column(Integer, default=0)
    following_count: Mapped[int] = mapped_column(Integer, default=0)

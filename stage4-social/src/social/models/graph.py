"""The social graph: who follows, blocks and mutes whom. Each edge is one row, unique per
pair, so following twice is the same row (an idempotent PUT), whoever races."""

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from roadmap_shared.database import TimestampMixin
from social.models.base import Base, IntegerIdMixin


class Follow(IntegerIdMixin, TimestampMixin, Base):
    """`follower_id` follows `followee_id`. The id orders the followers and following
    lists (newest first) and is their cursor."""

    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("follower_id", "followee_id"),
        CheckConstraint("follower_id <> followee_id", name="not_oneself"),
    )

    follower_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    # Indexed for the fan-out's "who follows this author" and the followers list.
    followee_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )


class Block(TimestampMixin, Base):
    """`blocker_id` blocked `blocked_id`: neither follows the other any more, and the
    blocked one cannot follow the blocker, see their profile or read their posts."""

    __tablename__ = "blocks"
    __table_args__ = (CheckConstraint("blocker_id <> blocked_id", name="not_oneself"),)

    blocker_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Mute(TimestampMixin, Base):
    """`muter_id` muted `muted_id`: the muted one's posts leave the muter's home timeline
    (filtered at read time, so unmuting brings them back), and nothing else changes."""

    __tablename__ = "mutes"
    __table_args__ = (CheckConstraint("muter_id <> muted_id", name="not_oneself"),)

    muter_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    muted_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )

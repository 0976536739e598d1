from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from roadmap_shared.database import TimestampMixin
from social.models.base import Base, IntegerIdMixin

POST_MAX_LENGTH = 500
COMMENT_MAX_LENGTH = 500


class Post(IntegerIdMixin, TimestampMixin, Base):
    __tablename__ = "posts"
    __table_args__ = (
        # An author's posts newest first: a timeline's rebuild and the merge of large
        # accounts' posts at read time both walk it backwards from a post id.
        Index("ix_posts_author_id_id", "author_id", "id"),
        # The same for the posts merged at read time alone: a followed author who is not a
        # large account costs one empty probe of this small index, not a walk of theirs.
        Index(
            "ix_posts_fan_out_on_read_author_id_id",
            "author_id",
            "id",
            postgresql_where=text("fan_out_on_read"),
        ),
        CheckConstraint("like_count >= 0", name="like_count_not_negative"),
    )

    author_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    # Chosen when the post is written, from the author's follower count then: pushed into
    # followers' timelines by the fan-out consumer (False), or merged into them when they
    # are read (True). Decided once, so an author crossing the threshold later changes
    # how their next posts travel, never where their earlier ones are found.
    fan_out_on_read: Mapped[bool] = mapped_column(Boolean, default=False)
    # Kept in step with `likes` in the transaction of each like and unlike (posts.repository).
    like_count: Mapped[int] = mapped_column(Integer, default=0)


class Like(TimestampMixin, Base):
    """One per user and post: the primary key makes a second like by the same user, however
    it races the first, a no-op."""

    __tablename__ = "likes"

    post_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )


class Comment(IntegerIdMixin, TimestampMixin, Base):
    __tablename__ = "comments"
    # A post's comments in order: the list's only query.
    __table_args__ = (Index("ix_comments_post_id_id", "post_id", "id"),)

    post_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("posts.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)

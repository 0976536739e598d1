"""SQL for comments.

Reads select columns, not ORM objects, straight into the response (as the article reads
do: see `articles/repository.py`); deleting loads the `Comment` it checks and deletes."""

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.models import Comment, User
from conduit.profiles.repository import follows


class CommentRow(NamedTuple):
    """One comment as responses show it, in the order `_comments()` selects it."""

    id: int
    created_at: datetime
    updated_at: datetime
    body: str
    author_username: str
    author_bio: str | None
    author_image: str | None
    following: bool


def _comments(
    viewer_id: int | None,
) -> Select[int, datetime, datetime, str, str, str | None, str | None, bool]:
    return select(
        Comment.id,
        Comment.created_at,
        Comment.updated_at,
        Comment.body,
        User.username,
        User.bio,
        User.image,
        follows(viewer_id, Comment.author_id),
    ).join(User, User.id == Comment.author_id)


async def for_article(
    session: AsyncSession, article_id: int, *, viewer_id: int | None, limit: int, offset: int
) -> list[CommentRow]:
    """Newest first; one statement for any number of comments."""
    query = (
        _comments(viewer_id)
        .where(Comment.article_id == article_id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [CommentRow(*row) for row in (await session.execute(query)).all()]


async def get_row(session: AsyncSession, comment_id: int, *, viewer_id: int) -> CommentRow:
    row = (await session.execute(_comments(viewer_id).where(Comment.id == comment_id))).one()
    return CommentRow(*row)


async def get(session: AsyncSession, article_id: int, comment_id: int) -> Comment | None:
    return await session.scalar(
        select(Comment).where(Comment.id == comment_id, Comment.article_id == article_id)
    )


async def delete_comment(session: AsyncSession, comment_id: int) -> None:
    await session.execute(delete(Comment).where(Comment.id == comment_id))

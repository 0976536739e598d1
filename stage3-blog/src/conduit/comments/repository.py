"""SQL for comments."""

from typing import Any, NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from conduit.models import Comment
from conduit.profiles.repository import follows


class CommentRow(NamedTuple):
    comment: Comment
    following: bool


def _comments(viewer_id: int | None) -> Any:
    return (
        select(Comment, follows(viewer_id, Comment.author_id).label("following"))
        .join(Comment.author)
        .options(contains_eager(Comment.author))
    )


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

"""The rules of comments: anyone signed in may comment; a comment may be deleted by its
author, a moderator or an admin."""

from sqlalchemy.ext.asyncio import AsyncSession

from conduit.comments import repository
from conduit.comments.repository import CommentRow
from conduit.comments.schemas import Comment, NewComment
from conduit.errors import not_found, not_owner
from conduit.models import Article, User
from conduit.models import Comment as CommentRecord
from conduit.profiles.schemas import Profile


def to_schema(row: CommentRow) -> Comment:
    return Comment(
        id=row.id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        body=row.body,
        author=Profile(
            username=row.author_username,
            bio=row.author_bio,
            image=row.author_image,
            following=row.following,
        ),
    )


async def list_comments(
    session: AsyncSession, article: Article, viewer_id: int | None, *, limit: int, offset: int
) -> list[Comment]:
    rows = await repository.for_article(
        session, article.id, viewer_id=viewer_id, limit=limit, offset=offset
    )
    return [to_schema(row) for row in rows]


async def add(session: AsyncSession, article: Article, author: User, new: NewComment) -> Comment:
    comment = CommentRecord(article_id=article.id, author_id=author.id, body=new.body)
    session.add(comment)
    await session.flush()
    return to_schema(await repository.get_row(session, comment.id, viewer_id=author.id))


async def delete(session: AsyncSession, article: Article, comment_id: int, user: User) -> None:
    # A comment is found only under its own article; any other slug is a 404.
    comment = await repository.get(session, article.id, comment_id)
    if comment is None:
        raise not_found("comment")
    if comment.author_id != user.id and not user.role.moderates:
        raise not_owner("comment")
    await repository.delete_comment(session, comment.id)

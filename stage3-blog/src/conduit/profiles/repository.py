"""SQL for profiles and follows."""

from typing import NamedTuple

from sqlalchemy import ColumnElement, ColumnExpressionArgument, delete, exists, false, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.models import Follow, User


class ProfileRow(NamedTuple):
    username: str
    bio: str | None
    image: str | None
    following: bool


def follows(
    viewer_id: ColumnExpressionArgument[int] | int | None,
    author_id: ColumnExpressionArgument[int],
) -> ColumnElement[bool]:
    """A column saying whether the viewer follows `author_id` (always false when anonymous),
    to select alongside articles or comments in the same query. `viewer_id` may be a bound
    parameter, in a statement built once."""
    if viewer_id is None:
        return false()
    return exists().where(Follow.follower_id == viewer_id, Follow.followee_id == author_id)


async def profile_row(
    session: AsyncSession, username: str, *, viewer_id: int | None
) -> ProfileRow | None:
    """A user as `viewer_id` sees them, in one statement: columns, not a `User` object,
    since the response needs nothing else (see `articles/repository.py`)."""
    query = select(User.username, User.bio, User.image, follows(viewer_id, User.id)).where(
        User.username == username
    )
    row = (await session.execute(query)).one_or_none()
    return None if row is None else ProfileRow(*row)


async def is_following(session: AsyncSession, follower_id: int, followee_id: int) -> bool:
    query = select(
        exists().where(Follow.follower_id == follower_id, Follow.followee_id == followee_id)
    )
    return bool(await session.scalar(query))


async def follow(session: AsyncSession, follower_id: int, followee_id: int) -> None:
    # Idempotent, and safe when the same request arrives twice at once.
    await session.execute(
        insert(Follow)
        .values(follower_id=follower_id, followee_id=followee_id)
        .on_conflict_do_nothing()
    )


async def unfollow(session: AsyncSession, follower_id: int, followee_id: int) -> None:
    await session.execute(
        delete(Follow).where(Follow.follower_id == follower_id, Follow.followee_id == followee_id)
    )

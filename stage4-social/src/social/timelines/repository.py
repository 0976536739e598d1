"""The timelines' SQL: what a rebuild reads, and the posts merged in at read time."""

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from social.models import Follow, Post
from social.timelines.store import Entry


async def follower_ids(session: AsyncSession, user_id: int) -> list[int]:
    """Everyone following `user_id` now: what a fan-out reads when it runs, not when the
    post was written, so an unfollow or block in between is respected."""
    result = await session.scalars(select(Follow.follower_id).where(Follow.followee_id == user_id))
    return list(result)


def _by_followed_or_self(viewer_id: int) -> ColumnElement[bool]:
    followed = select(Follow.followee_id).where(Follow.follower_id == viewer_id)
    return or_(Post.author_id == viewer_id, Post.author_id.in_(followed))


async def pushed_posts(session: AsyncSession, viewer_id: int, *, limit: int) -> list[Entry]:
    """The newest posts a fan-out would have pushed into this timeline: a rebuild."""
    result = await session.execute(
        select(Post.id, Post.author_id)
        .where(_by_followed_or_self(viewer_id), ~Post.fan_out_on_read)
        .order_by(Post.id.desc())
        .limit(limit)
    )
    return [Entry(post_id, author_id) for post_id, author_id in result]


async def pulled_post_ids(
    session: AsyncSession, viewer_id: int, *, before: int | None, limit: int
) -> list[int]:
    """The newest posts of large accounts the viewer follows (never fanned out), older
    than `before`: merged with the Redis timeline at read time."""
    query = (
        select(Post.id)
        .where(_by_followed_or_self(viewer_id), Post.fan_out_on_read)
        .order_by(Post.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(Post.id < before)
    return list(await session.scalars(query))


async def all_post_ids(
    session: AsyncSession, viewer_id: int, *, before: int | None, limit: int
) -> list[int]:
    """The whole timeline from PostgreSQL alone, however each post travelled: what a read
    falls back to when Redis cannot answer."""
    query = (
        select(Post.id).where(_by_followed_or_self(viewer_id)).order_by(Post.id.desc()).limit(limit)
    )
    if before is not None:
        query = query.where(Post.id < before)
    return list(await session.scalars(query))

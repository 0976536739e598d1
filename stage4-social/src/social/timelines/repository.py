"""The timelines' SQL: the followers a fan-out writes to, what a rebuild reads, and the
posts merged in at read time.

The newest posts of the people one follows are read author by author (a LATERAL join:
for each followed author, its newest posts from the `(author_id, id)` index, then the
newest of those). A plain `WHERE author_id IN (...) ORDER BY id DESC` lets PostgreSQL walk
every post backwards by id until it has found enough by those authors: fast while the
table is small, slower with every post anyone else writes."""

from sqlalchemy import BigInteger, ColumnElement, Select, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from social.models import Follow, Post
from social.timelines.store import Entry


async def follower_ids(session: AsyncSession, user_id: int) -> list[int]:
    """Everyone following `user_id` now: what a fan-out reads when it runs, not when the
    post was written, so an unfollow or block in between is respected."""
    result = await session.scalars(select(Follow.follower_id).where(Follow.followee_id == user_id))
    return list(result)


def _newest(
    viewer_id: int, *, before: int | None, limit: int, where: ColumnElement[bool] | None = None
) -> Select[int, int]:
    """(post id, author id) of the newest `limit` posts by the viewer and whom they follow."""
    authors = (
        select(Follow.followee_id.label("author_id"))
        .where(Follow.follower_id == viewer_id)
        .union_all(select(literal(viewer_id, BigInteger).label("author_id")))
        .subquery("authors")
    )
    recent = select(Post.id, Post.author_id).where(Post.author_id == authors.c.author_id)
    if before is not None:
        recent = recent.where(Post.id < before)
    if where is not None:
        recent = recent.where(where)
    newest = recent.order_by(Post.id.desc()).limit(limit).lateral("recent")
    return (
        select(newest.c.id, newest.c.author_id)
        .select_from(authors)
        .join(newest, true())
        .order_by(newest.c.id.desc())
        .limit(limit)
    )


async def pushed_posts(session: AsyncSession, viewer_id: int, *, limit: int) -> list[Entry]:
    """The newest posts a fan-out would have pushed into this timeline: a rebuild."""
    query = _newest(viewer_id, before=None, limit=limit, where=~Post.fan_out_on_read)
    result = await session.execute(query)
    return [Entry(post_id, author_id) for post_id, author_id in result]


async def pulled_post_ids(
    session: AsyncSession, viewer_id: int, *, before: int | None, limit: int
) -> list[int]:
    """The newest posts of large accounts the viewer follows (never fanned out), older
    than `before`: merged with the Redis timeline at read time."""
    query = _newest(viewer_id, before=before, limit=limit, where=Post.fan_out_on_read.expression)
    return [post_id for post_id, _ in await session.execute(query)]


async def all_post_ids(
    session: AsyncSession, viewer_id: int, *, before: int | None, limit: int
) -> list[int]:
    """The whole timeline from PostgreSQL alone, however each post travelled: what a read
    falls back to when Redis cannot answer."""
    query = _newest(viewer_id, before=before, limit=limit)
    return [post_id for post_id, _ in await session.execute(query)]

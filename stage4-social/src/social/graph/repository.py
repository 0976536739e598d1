"""The graph's SQL. Every change to an edge also moves the counts on `users`, in the same
transaction and only when the edge really changed: `INSERT ... ON CONFLICT DO NOTHING
RETURNING` and `DELETE ... RETURNING` say whether it did, so a repeated or racing request
counts once."""

from sqlalchemy import ColumnElement, delete, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from social.models import Block, Follow, Mute, User


async def lock_pair(session: AsyncSession, first: int, second: int) -> None:
    """Locks both users' rows, lower id first, until the transaction ends: every change
    between two users (follow, unfollow, block) takes this lock, so a follow cannot slip
    in beside a block, and two changes never wait on each other in opposite orders
    (a deadlock). NO KEY UPDATE: inserts that only reference the rows (a post, a like)
    are not held up."""
    await session.execute(
        select(User.id)
        .where(User.id.in_((first, second)))
        .order_by(User.id)
        .with_for_update(key_share=True)
    )


async def _count_follow(
    session: AsyncSession, follower_id: int, followee_id: int, delta: int
) -> None:
    # Both rows are locked already (lock_pair); lower id first all the same.
    changes = sorted(
        [
            (follower_id, {"following_count": User.following_count + delta}),
            (followee_id, {"followers_count": User.followers_count + delta}),
        ],
        key=lambda change: change[0],
    )
    for user_id, values in changes:
        await session.execute(update(User).where(User.id == user_id).values(values))


async def follow(session: AsyncSession, follower_id: int, followee_id: int) -> bool:
    """True if the edge is new; False if it was there already."""
    created = await session.scalar(
        insert(Follow)
        .values(follower_id=follower_id, followee_id=followee_id)
        .on_conflict_do_nothing()
        .returning(Follow.id)
    )
    if created is None:
        return False
    await _count_follow(session, follower_id, followee_id, +1)
    return True


async def unfollow(session: AsyncSession, follower_id: int, followee_id: int) -> bool:
    """True if there was an edge to remove."""
    removed = await session.scalar(
        delete(Follow)
        .where(Follow.follower_id == follower_id, Follow.followee_id == followee_id)
        .returning(Follow.id)
    )
    if removed is None:
        return False
    await _count_follow(session, follower_id, followee_id, -1)
    return True


async def is_following(session: AsyncSession, follower_id: int, followee_id: int) -> bool:
    found = await session.scalar(
        select(exists().where(Follow.follower_id == follower_id, Follow.followee_id == followee_id))
    )
    return bool(found)


async def block(session: AsyncSession, blocker_id: int, blocked_id: int) -> None:
    await session.execute(
        insert(Block).values(blocker_id=blocker_id, blocked_id=blocked_id).on_conflict_do_nothing()
    )


async def unblock(session: AsyncSession, blocker_id: int, blocked_id: int) -> None:
    await session.execute(
        delete(Block).where(Block.blocker_id == blocker_id, Block.blocked_id == blocked_id)
    )


async def has_blocked(session: AsyncSession, blocker_id: int, blocked_id: int) -> bool:
    found = await session.scalar(
        select(exists().where(Block.blocker_id == blocker_id, Block.blocked_id == blocked_id))
    )
    return bool(found)


async def blocked_either_way(session: AsyncSession, first: int, second: int) -> bool:
    found = await session.scalar(
        select(
            exists().where(
                or_(
                    (Block.blocker_id == first) & (Block.blocked_id == second),
                    (Block.blocker_id == second) & (Block.blocked_id == first),
                )
            )
        )
    )
    return bool(found)


async def mute(session: AsyncSession, muter_id: int, muted_id: int) -> None:
    await session.execute(
        insert(Mute).values(muter_id=muter_id, muted_id=muted_id).on_conflict_do_nothing()
    )


async def unmute(session: AsyncSession, muter_id: int, muted_id: int) -> None:
    await session.execute(delete(Mute).where(Mute.muter_id == muter_id, Mute.muted_id == muted_id))


async def followers(
    session: AsyncSession, user_id: int, *, before: int | None, limit: int
) -> list[tuple[int, User]]:
    """(follow id, follower), newest follow first."""
    return await _edges(session, Follow.followee_id == user_id, Follow.follower_id, before, limit)


async def following(
    session: AsyncSession, user_id: int, *, before: int | None, limit: int
) -> list[tuple[int, User]]:
    """(follow id, followee), newest follow first."""
    return await _edges(session, Follow.follower_id == user_id, Follow.followee_id, before, limit)


async def _edges(
    session: AsyncSession,
    where: ColumnElement[bool],
    other: InstrumentedAttribute[int],
    before: int | None,
    limit: int,
) -> list[tuple[int, User]]:
    query = (
        select(Follow.id, User)
        .join(User, User.id == other)
        .where(where)
        .order_by(Follow.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(Follow.id < before)
    result = await session.execute(query)
    return [(follow_id, user) for follow_id, user in result]

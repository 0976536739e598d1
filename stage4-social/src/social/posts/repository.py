"""Posts, likes and comments in SQL. A page of posts, whatever its size, is one statement:
each post with its author and whether the viewer liked it (`PostView`)."""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from social.models import Block, Comment, Follow, Like, Mute, Post, User


@dataclass(frozen=True)
class PostView:
    post: Post
    author: User
    liked: bool


def not_blocked(viewer_id: int) -> ColumnElement[bool]:
    """Neither the post's author nor the viewer has blocked the other: a blocked user
    does not see the blocker's posts, and a blocker does not see the blocked user's."""
    return ~exists().where(
        or_(
            and_(Block.blocker_id == Post.author_id, Block.blocked_id == viewer_id),
            and_(Block.blocker_id == viewer_id, Block.blocked_id == Post.author_id),
        )
    )


def on_home_timeline(viewer_id: int) -> ColumnElement[bool]:
    """Belongs on the viewer's home timeline now: their own, or by an author they follow
    and have not muted. Checked at every read, so a timeline entry left behind by a race
    (a fan-out that read the followers just before an unfollow) is never shown."""
    followed = exists().where(Follow.follower_id == viewer_id, Follow.followee_id == Post.author_id)
    muted = exists().where(Mute.muter_id == viewer_id, Mute.muted_id == Post.author_id)
    return or_(Post.author_id == viewer_id, and_(followed, ~muted))


async def views(
    session: AsyncSession, viewer_id: int, post_ids: list[int], *, home_timeline: bool = False
) -> list[PostView]:
    """The posts of `post_ids` the viewer may see, newest first, in one statement."""
    if not post_ids:
        return []
    liked = exists().where(Like.post_id == Post.id, Like.user_id == viewer_id)
    query = (
        select(Post, User, liked.label("liked"))
        .join(User, User.id == Post.author_id)
        .where(Post.id.in_(post_ids), not_blocked(viewer_id))
        .order_by(Post.id.desc())
    )
    if home_timeline:
        query = query.where(on_home_timeline(viewer_id))
    result = await session.execute(query)
    return [PostView(post, author, bool(is_liked)) for post, author, is_liked in result]


async def add(session: AsyncSession, author: User, body: str, *, fan_out_on_read: bool) -> Post:
    post = Post(author_id=author.id, body=body, fan_out_on_read=fan_out_on_read)
    session.add(post)
    await session.flush()
    return post


async def remove(session: AsyncSession, post_id: int) -> None:
    await session.execute(delete(Post).where(Post.id == post_id))


async def like(session: AsyncSession, post_id: int, user_id: int) -> bool:
    """True if this like is new. The count moves only then: a like repeated, or racing
    itself from two devices, is one like."""
    created = await session.scalar(
        insert(Like)
        .values(post_id=post_id, user_id=user_id)
        .on_conflict_do_nothing()
        .returning(Like.post_id)
    )
    if created is None:
        return False
    # Relative, under the row lock this takes: concurrent likes by others all count.
    await session.execute(
        update(Post).where(Post.id == post_id).values(like_count=Post.like_count + 1)
    )
    return True


async def unlike(session: AsyncSession, post_id: int, user_id: int) -> bool:
    removed = await session.scalar(
        delete(Like).where(Like.post_id == post_id, Like.user_id == user_id).returning(Like.post_id)
    )
    if removed is None:
        return False
    await session.execute(
        update(Post).where(Post.id == post_id).values(like_count=Post.like_count - 1)
    )
    return True


async def add_comment(session: AsyncSession, post_id: int, author: User, body: str) -> Comment:
    comment = Comment(post_id=post_id, author_id=author.id, body=body)
    session.add(comment)
    await session.flush()
    return comment


async def comments(
    session: AsyncSession, post_id: int, *, after: int | None, limit: int
) -> list[tuple[Comment, User]]:
    """Oldest first, as a conversation reads."""
    query = (
        select(Comment, User)
        .join(User, User.id == Comment.author_id)
        .where(Comment.post_id == post_id)
        .order_by(Comment.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(Comment.id > after)
    result = await session.execute(query)
    return [(comment, author) for comment, author in result]

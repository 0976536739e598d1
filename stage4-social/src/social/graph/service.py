"""The rules of the graph.

- Following is idempotent: PUT twice is one follow; DELETE what is not there is fine.
- Nobody follows themselves (422), and nobody follows across a block (403).
- A block ends both follows, and hides each from the other: the blocked user gets 404
  for the blocker's profile and posts.
- Timelines follow the graph after the commit: an unfollow or block takes the author's
  posts out of the timeline at once; a new follow drops the follower's timeline, which
  the next read rebuilds with the new author's recent posts in it. If Redis misses one of
  these, reads still filter by the graph in PostgreSQL (posts.repository.on_home_timeline).
"""

from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.after_commit import after_commit
from roadmap_shared.errors import Forbidden, NotFound, UnprocessableContent
from roadmap_shared.pagination import CursorPage
from social.graph import repository
from social.graph.schemas import Profile, ProfileSummary
from social.models import User
from social.paging import CursorQuery, cursor_at
from social.timelines.store import TimelineStore
from social.users import repository as users


async def visible_user(session: AsyncSession, viewer: User, username: str) -> User:
    """The user called `username`, unless they blocked the viewer: then 404, as for
    nobody, so a block is not announced."""
    user = await users.get_by_username(session, username)
    if user is None or await repository.has_blocked(session, user.id, viewer.id):
        raise NotFound("No user has this username.")
    return user


async def profile(session: AsyncSession, viewer: User, username: str) -> Profile:
    user = await visible_user(session, viewer, username)
    return await _profile_of(session, viewer, user)


async def _profile_of(session: AsyncSession, viewer: User, user: User) -> Profile:
    following = await repository.is_following(session, viewer.id, user.id)
    return Profile(
        username=user.username,
        display_name=user.display_name,
        bio=user.bio,
        followers_count=user.followers_count,
        following_count=user.following_count,
        following=following,
    )


async def _other(session: AsyncSession, viewer: User, username: str, action: str) -> User:
    other = await visible_user(session, viewer, username)
    if other.id == viewer.id:
        raise UnprocessableContent(f"You cannot {action} yourself.")
    return other


async def follow(
    session: AsyncSession, store: TimelineStore, viewer: User, username: str
) -> Profile:
    other = await _other(session, viewer, username, "follow")
    await repository.lock_pair(session, viewer.id, other.id)
    if await repository.blocked_either_way(session, viewer.id, other.id):
        raise Forbidden("You cannot follow this user: one of you blocked the other.")
    if await repository.follow(session, viewer.id, other.id):

        async def rebuild_on_next_read() -> None:
            await store.drop(viewer.id)

        after_commit(session, rebuild_on_next_read)
    await session.refresh(other)
    return await _profile_of(session, viewer, other)


async def unfollow(
    session: AsyncSession, store: TimelineStore, viewer: User, username: str
) -> Profile:
    other = await _other(session, viewer, username, "unfollow")
    await repository.lock_pair(session, viewer.id, other.id)
    if await repository.unfollow(session, viewer.id, other.id):
        _remove_from_timeline(session, store, owner=viewer.id, author=other.id)
    await session.refresh(other)
    return await _profile_of(session, viewer, other)


async def block(session: AsyncSession, store: TimelineStore, viewer: User, username: str) -> None:
    other = await _other(session, viewer, username, "block")
    await repository.lock_pair(session, viewer.id, other.id)
    await repository.block(session, viewer.id, other.id)
    if await repository.unfollow(session, viewer.id, other.id):
        _remove_from_timeline(session, store, owner=viewer.id, author=other.id)
    if await repository.unfollow(session, other.id, viewer.id):
        _remove_from_timeline(session, store, owner=other.id, author=viewer.id)


async def unblock(session: AsyncSession, viewer: User, username: str) -> None:
    other = await _other(session, viewer, username, "unblock")
    # Follows ended by the block stay ended: following again is each one's choice.
    await repository.unblock(session, viewer.id, other.id)


async def mute(session: AsyncSession, viewer: User, username: str) -> None:
    other = await _other(session, viewer, username, "mute")
    await repository.mute(session, viewer.id, other.id)


async def unmute(session: AsyncSession, viewer: User, username: str) -> None:
    other = await _other(session, viewer, username, "unmute")
    await repository.unmute(session, viewer.id, other.id)


def _remove_from_timeline(
    session: AsyncSession, store: TimelineStore, *, owner: int, author: int
) -> None:
    async def remove() -> None:
        await store.remove_author(owner, author)

    after_commit(session, remove)


async def followers(
    session: AsyncSession, viewer: User, username: str, query: CursorQuery
) -> CursorPage[ProfileSummary]:
    user = await visible_user(session, viewer, username)
    rows = await repository.followers(
        session, user.id, before=query.after_id(), limit=query.limit + 1
    )
    return _page(rows, query)


async def following(
    session: AsyncSession, viewer: User, username: str, query: CursorQuery
) -> CursorPage[ProfileSummary]:
    user = await visible_user(session, viewer, username)
    rows = await repository.following(
        session, user.id, before=query.after_id(), limit=query.limit + 1
    )
    return _page(rows, query)


def _page(rows: list[tuple[int, User]], query: CursorQuery) -> CursorPage[ProfileSummary]:
    # One row more than the page holds says whether there is a next page.
    page, more = rows[: query.limit], len(rows) > query.limit
    return CursorPage(
        items=[ProfileSummary.model_validate(user) for _, user in page],
        next_cursor=cursor_at(page[-1][0]) if more else None,
    )

"""Reading a home timeline: the hybrid of fan-out on write and on read.

1. The page of post ids from the reader's Redis timeline (pushed there by the fan-out
   consumer); if it does not exist (expired, or never built), it is rebuilt from
   PostgreSQL first.
2. The page of post ids by large accounts the reader follows (never fanned out), from
   PostgreSQL.
3. Both merged, newest first, and the page's posts read in one statement with their
   authors, like counts and the reader's likes, keeping only what belongs on the
   timeline now (posts.repository.on_home_timeline).

Three statements whatever the page size, four when a rebuild is needed. If Redis does not
answer, the page comes from PostgreSQL alone: slower, and still right. So do the pages
past the oldest post of a trimmed Redis timeline (it keeps only the newest
`timeline_length`): the timeline goes back as far as PostgreSQL does, whichever way each
post travelled.
"""

import logging

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.pagination import CursorPage
from social.models import User
from social.paging import CursorQuery, cursor_at
from social.posts import repository as posts
from social.posts.schemas import PostPublic
from social.timelines import repository
from social.timelines.store import Page, TimelineStore

logger = logging.getLogger(__name__)


async def home(
    session: AsyncSession, store: TimelineStore, viewer: User, query: CursorQuery
) -> CursorPage[PostPublic]:
    before, wanted = query.after_id(), query.limit + 1
    try:
        page = await _pushed(session, store, viewer.id, before, wanted)
    except RedisError as unreachable:
        logger.warning("timeline of user %s read from PostgreSQL: %r", viewer.id, unreachable)
        return await from_database(session, viewer, query)
    if page.trimmed and len(page.entries) < wanted:
        # Paging past the oldest post Redis kept: the older ones are only in PostgreSQL.
        return await from_database(session, viewer, query)
    pushed = [entry.post_id for entry in page.entries]
    pulled = await repository.pulled_post_ids(session, viewer.id, before=before, limit=wanted)
    candidates = sorted({*pushed, *pulled}, reverse=True)[:wanted]
    return await _page(session, viewer, query, candidates)


async def from_database(
    session: AsyncSession, viewer: User, query: CursorQuery
) -> CursorPage[PostPublic]:
    """The same page assembled from PostgreSQL alone (no Redis): the fallback, and what
    the benchmark compares the Redis path with."""
    return await _page(session, viewer, query, await database_ids(session, viewer, query))


async def database_ids(session: AsyncSession, viewer: User, query: CursorQuery) -> list[int]:
    return await repository.all_post_ids(
        session, viewer.id, before=query.after_id(), limit=query.limit + 1
    )


async def rebuild(session: AsyncSession, store: TimelineStore, user_id: int) -> None:
    await store.start_rebuild(user_id)
    entries = await repository.pushed_posts(session, user_id, limit=store.length)
    await store.finish_rebuild(user_id, entries)


async def _pushed(
    session: AsyncSession, store: TimelineStore, user_id: int, before: int | None, count: int
) -> Page:
    page = await store.page(user_id, before=before, count=count)
    if page is None:
        await rebuild(session, store, user_id)
        # Read again: fan-outs during the rebuild may have added newer posts. Dropped
        # again meanwhile (a new follow), it counts as trimmed: PostgreSQL answers.
        page = await store.page(user_id, before=before, count=count) or Page([], trimmed=True)
    return page


async def _page(
    session: AsyncSession, viewer: User, query: CursorQuery, candidates: list[int]
) -> CursorPage[PostPublic]:
    # One candidate more than the page holds says whether there is a next page. Posts
    # deleted, muted or unfollowed since they were pushed are dropped: the page may then
    # hold fewer than `limit`, and the cursor still moves past them.
    page_ids, more = candidates[: query.limit], len(candidates) > query.limit
    views = await posts.views(session, viewer.id, page_ids, home_timeline=True)
    return CursorPage(
        items=[PostPublic.of(view) for view in views],
        next_cursor=cursor_at(page_ids[-1]) if more else None,
    )

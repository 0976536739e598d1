"""What the blog caches in Redis: the tag list and the article lists anonymous visitors see.

Only anonymous lists are cached: they are the same for every visitor, so one entry serves
thousands of readers. A signed-in reader's list carries `favorited` and `following` flags
of their own, so it is read from PostgreSQL (fast anyway: see the N+1 tests).

Only the pages many visitors share get a key: the first pages of a listing, as front ends
ask for them (`offset` a multiple of `limit`), without a search. The rest (a search, page
40 of a tag, `?limit=7&offset=3`) is a long tail of keys read about once; caching it would
cost a Redis write per request for no later hit, and would let anyone fill Redis, which
also holds the rate limits, with `?offset=1`, `?offset=2`... or `?q=<anything>`.

Every service that writes what a list shows calls a `forget_*` method with its session;
the pages go stale once that transaction has committed (`roadmap_shared.after_commit`):
before it, a concurrent reader could cache the old rows again. `roadmap_shared.cache.Cache`
bumps the group's version, which makes every cached page stale at once. Stampede
protection and the fall-back to PostgreSQL when Redis is down come from the shared `Cache`.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict

from sqlalchemy.ext.asyncio import AsyncSession

from conduit.articles.repository import ArticleFilters
from conduit.paging import Paging
from roadmap_shared.after_commit import after_commit
from roadmap_shared.cache import Cache

ARTICLE_LISTS = "article-lists"
TAGS_KEY = "tags"
# Pages are cached while they lie within a listing's first 100 articles (five pages of 20).
CACHED_DEPTH = 100

Loader = Callable[[], Awaitable[bytes]]


def is_cached(filters: ArticleFilters, page: Paging) -> bool:
    return (
        filters.search is None
        and page.offset % page.limit == 0
        and page.offset + page.limit <= CACHED_DEPTH
    )


class ContentCache:
    def __init__(self, cache: Cache, *, list_ttl_seconds: int, tags_ttl_seconds: int) -> None:
        self._cache = cache
        self._list_ttl = list_ttl_seconds
        self._tags_ttl = tags_ttl_seconds

    async def article_list(self, filters: ArticleFilters, page: Paging, load: Loader) -> bytes:
        """The anonymous article list for these filters and this page, as JSON bytes."""
        if not self._list_ttl or not is_cached(filters, page):  # a TTL of 0: cache off
            return await load()
        # The key names everything the page depends on, and nothing else. Hashed, so a
        # key's length does not grow with what a client puts in the query.
        query = json.dumps({**asdict(filters), **asdict(page)}, sort_keys=True)
        digest = hashlib.sha256(query.encode()).hexdigest()
        return await self._cache.get_or_load(
            digest, load, ttl_seconds=self._list_ttl, group=ARTICLE_LISTS
        )

    async def tags(self, load: Loader) -> bytes:
        if not self._tags_ttl:
            return await load()
        return await self._cache.get_or_load(TAGS_KEY, load, ttl_seconds=self._tags_ttl)

    def forget_article_lists(self, session: AsyncSession) -> None:
        """Every cached list, once `session` commits: a favorites count, or an author's
        name, bio or image, changed."""
        after_commit(session, self._invalidate_article_lists)

    def forget_articles_and_tags(self, session: AsyncSession) -> None:
        """The lists and the tag list, once `session` commits: an article was created,
        edited or deleted, so the tags in use may have changed too."""
        after_commit(session, self._invalidate_article_lists)
        after_commit(session, self._invalidate_tags)

    async def _invalidate_article_lists(self) -> None:
        await self._cache.invalidate_group(ARTICLE_LISTS)

    async def _invalidate_tags(self) -> None:
        await self._cache.invalidate(TAGS_KEY)

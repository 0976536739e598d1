"""What the blog caches in Redis: the tag list and the article lists anonymous visitors see.

Only anonymous lists are cached: they are the same for every visitor, so one entry serves
thousands of readers. A signed-in reader's list carries `favorited` and `following` flags
of their own, so it is read from PostgreSQL (fast anyway: see the N+1 tests).

Every write that can change what a list shows (an article created, edited or deleted, a
favorite, a new username or avatar) calls `forget_articles()` after its transaction has
committed; `roadmap_shared.cache.Cache` bumps the group's version, which makes every cached
page stale at once. Stampede protection and the fall-back to PostgreSQL when Redis is down
come from the shared `Cache`.
"""

import hashlib
from collections.abc import Awaitable, Callable

from roadmap_shared.cache import Cache

ARTICLE_LISTS = "article-lists"
TAGS_KEY = "tags"


class ContentCache:
    def __init__(self, cache: Cache, *, list_ttl_seconds: int, tags_ttl_seconds: int) -> None:
        self._cache = cache
        self._list_ttl = list_ttl_seconds
        self._tags_ttl = tags_ttl_seconds

    async def article_list(self, query: str, load: Callable[[], Awaitable[bytes]]) -> bytes:
        """The anonymous article list for a query (its filters and page), as JSON bytes."""
        # Hashed: a key's length must not grow with what a client puts in the query.
        digest = hashlib.sha256(query.encode()).hexdigest()
        return await self._cache.get_or_load(
            digest, load, ttl_seconds=self._list_ttl, group=ARTICLE_LISTS
        )

    async def tags(self, load: Callable[[], Awaitable[bytes]]) -> bytes:
        return await self._cache.get_or_load(TAGS_KEY, load, ttl_seconds=self._tags_ttl)

    async def forget_articles(self) -> None:
        """Makes every cached list and the tag list stale. Call after the write commits:
        before it, a concurrent reader could cache the old rows again."""
        await self._cache.invalidate_group(ARTICLE_LISTS)
        await self._cache.invalidate(TAGS_KEY)

"""What the catalogue caches in Redis, under which keys, and what makes each key stale.

| cached                  | key group          | made stale by                                   |
|-------------------------|--------------------|-------------------------------------------------|
| one product's detail    | `product:<id>`     | any write to that product, its variants, images |
| every product list page | `product-lists`    | any product write; any category write           |
| the category tree       | `categories`       | any category write                              |

Services call `forget_products` / `forget_categories` with their session: the keys go stale
once that transaction has committed (`roadmap_shared.after_commit`), never before, when a
concurrent reader could cache the old rows again, and never for a write that rolled back.

Every key lives in a group, and invalidating a group bumps its version (see
`roadmap_shared.cache`). That closes the classic cache-aside race: a reader that loaded the
old row just before our commit stores it under the old version, where nobody looks again.

Stock is not shown exactly in public responses, only `in_stock`, so a sale invalidates
only when it takes a variant to zero (and a release or a lapse only when it brings one
back): `catalog.reservations.service`.
"""

import hashlib
from collections.abc import Awaitable, Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.after_commit import after_commit
from roadmap_shared.cache import Cache

Loader = Callable[[], Awaitable[bytes]]

PRODUCT_LISTS = "product-lists"
CATEGORIES = "categories"


def _product_group(product_id: int) -> str:
    return f"product:{product_id}"


class CatalogCache:
    def __init__(self, cache: Cache | None, *, ttl_seconds: int) -> None:
        """`cache=None` turns caching off: every read goes to the database."""
        self._cache = cache
        self._ttl = ttl_seconds

    async def _get_or_load(self, key: str, group: str, load: Loader) -> bytes:
        if self._cache is None:
            return await load()
        return await self._cache.get_or_load(key, load, ttl_seconds=self._ttl, group=group)

    async def product_detail(self, product_id: int, load: Loader) -> bytes:
        return await self._get_or_load("detail", _product_group(product_id), load)

    async def product_list(self, query: str, load: Loader) -> bytes:
        """`query` is the canonical form of the filters and page, e.g. "page=1&size=20"."""
        key = hashlib.sha256(query.encode()).hexdigest()
        return await self._get_or_load(key, PRODUCT_LISTS, load)

    async def category_tree(self, load: Loader) -> bytes:
        return await self._get_or_load("tree", CATEGORIES, load)

    def forget_products(self, session: AsyncSession, product_ids: Iterable[int]) -> None:
        """The products' pages and every list, once `session` commits."""
        changed = frozenset(product_ids)
        after_commit(session, lambda: self.products_changed(changed))

    def forget_categories(self, session: AsyncSession) -> None:
        """The category tree and every list, once `session` commits."""
        after_commit(session, self.categories_changed)

    async def products_changed(self, product_ids: Iterable[int]) -> None:
        if self._cache is None:
            return
        for product_id in set(product_ids):
            await self._cache.invalidate_group(_product_group(product_id))
        await self._cache.invalidate_group(PRODUCT_LISTS)

    async def categories_changed(self) -> None:
        if self._cache is None:
            return
        await self._cache.invalidate_group(CATEGORIES)
        await self._cache.invalidate_group(PRODUCT_LISTS)

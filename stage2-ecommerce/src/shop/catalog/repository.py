"""The catalogue's SQL: listing with filters and full-text search, the category tree."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CTE, ColumnElement, Select, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import REGCONFIG, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from roadmap_shared.pagination import PageParams
from shop.catalog.ordering import ProductSort
from shop.models import Category, Product, ProductImage, Variant
from shop.models.catalog import MAX_STOCK

# The cap on categories read at once. A shop's tree has tens of categories; past this
# many, the tree endpoint would need paging by level, and it should fail loudly first.
MAX_CATEGORIES = 1000
SEARCH_CONFIG = cast(literal("english"), REGCONFIG)


@dataclass(frozen=True)
class ProductFilters:
    q: str | None = None
    category: str | None = None  # a category slug: the category and everything below it
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None
    sort: ProductSort = ProductSort.NEWEST


# --- categories -----------------------------------------------------------------------


async def get_category(session: AsyncSession, category_id: int) -> Category | None:
    return await session.get(Category, category_id)


async def all_categories(session: AsyncSession) -> Sequence[Category]:
    query = select(Category).order_by(Category.name, Category.id).limit(MAX_CATEGORIES)
    return (await session.scalars(query)).all()


async def add_category_unless_slug_taken(
    session: AsyncSession, *, name: str, slug: str, parent_id: int | None
) -> Category | None:
    statement = (
        insert(Category)
        .values(name=name, slug=slug, parent_id=parent_id)
        .on_conflict_do_nothing(index_elements=[Category.slug])
        .returning(Category)
    )
    return await session.scalar(statement)


# Any number unique to this purpose: the key of the advisory lock that serialises moves.
CATEGORY_TREE_LOCK = 7_301_001


async def lock_category_tree(session: AsyncSession) -> None:
    """Holds, until this transaction ends, the right to move categories.

    Two moves checked at once could each find no loop in the tree as it was (A under B,
    and B under A) and together make one. Taken in turn, the second move's check sees the
    first move. Readers never take this lock: only moves queue behind each other.
    """
    await session.execute(select(func.pg_advisory_xact_lock(CATEGORY_TREE_LOCK)))


def subtree_ids(root: ColumnElement[bool]) -> CTE:
    """The ids of the categories matching `root` and of all their descendants, walked
    with a recursive CTE: the database follows `parent_id` down the tree in one query.
    UNION (not UNION ALL) drops ids already seen, so even a loop could not make it endless."""
    tree = select(Category.id).where(root).cte("subtree", recursive=True)
    children = select(Category.id).join(tree, Category.parent_id == tree.c.id)
    return tree.union(children)


async def is_in_subtree(session: AsyncSession, *, root_id: int, candidate_id: int) -> bool:
    subtree = subtree_ids(Category.id == root_id)
    query = select(subtree.c.id).where(subtree.c.id == candidate_id)
    return await session.scalar(query) is not None


# --- products -------------------------------------------------------------------------


def _with_variants_and_images(query: Select[Product]) -> Select[Product]:
    # One extra query per relationship for the whole page (`WHERE product_id IN (...)`),
    # whatever the page size: no N+1.
    return query.options(selectinload(Product.variants), selectinload(Product.images))


async def get_product(
    session: AsyncSession, product_id: int, *, include_archived: bool = False
) -> Product | None:
    query = _with_variants_and_images(select(Product).where(Product.id == product_id))
    if not include_archived:
        query = query.where(Product.archived_at.is_(None))
    return await session.scalar(query)


async def list_products(
    session: AsyncSession, filters: ProductFilters, page: PageParams
) -> tuple[Sequence[Product], int]:
    """A page of catalogue products (not archived, with at least one variant) and the
    number of products matching `filters` in all."""
    # Per product: its lowest price and whether any variant is in stock, to filter and
    # sort on. Computed by PostgreSQL in one pass over the variants.
    summary = (
        select(
            Variant.product_id,
            func.min(Variant.price_amount).label("price_from"),
            func.bool_or(Variant.stock > 0).label("in_stock"),
        )
        .group_by(Variant.product_id)
        .subquery("summary")
    )
    query = (
        select(Product)
        .join(summary, summary.c.product_id == Product.id)
        .where(Product.archived_at.is_(None))
    )
    search = func.websearch_to_tsquery(SEARCH_CONFIG, filters.q) if filters.q else None
    if search is not None:
        # `@@` is answered by the GIN index on the generated `search_vector` column.
        query = query.where(Product.search_vector.op("@@")(search))
    if filters.category is not None:
        subtree = subtree_ids(Category.slug == filters.category)
        query = query.where(Product.category_id.in_(select(subtree.c.id)))
    if filters.min_price is not None:
        query = query.where(summary.c.price_from >= filters.min_price)
    if filters.max_price is not None:
        query = query.where(summary.c.price_from <= filters.max_price)
    if filters.in_stock is not None:
        query = query.where(summary.c.in_stock.is_(filters.in_stock))

    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0

    # Every ordering ends with the primary key, so pages are stable when values tie.
    orderings: dict[ProductSort, list[ColumnElement[Any]]] = {
        ProductSort.NEWEST: [Product.created_at.desc(), Product.id.desc()],
        ProductSort.PRICE_ASC: [summary.c.price_from.asc(), Product.id.asc()],
        ProductSort.PRICE_DESC: [summary.c.price_from.desc(), Product.id.desc()],
        ProductSort.NAME: [Product.name.asc(), Product.id.asc()],
    }
    if filters.sort is ProductSort.RELEVANCE and search is not None:
        order_by: list[ColumnElement[Any]] = [
            func.ts_rank(Product.search_vector, search).desc(),
            Product.id.desc(),
        ]
    else:
        order_by = orderings.get(filters.sort, orderings[ProductSort.NEWEST])
    query = query.order_by(*order_by).limit(page.size).offset(page.offset)
    products = (await session.scalars(_with_variants_and_images(query))).all()
    return products, total


async def add_variants_unless_sku_taken(
    session: AsyncSession, product_id: int, variants: Sequence[dict[str, object]]
) -> Sequence[Variant]:
    """Inserts the variants whose SKU is free and returns those; the caller compares counts."""
    statement = (
        insert(Variant)
        .values([{**variant, "product_id": product_id} for variant in variants])
        .on_conflict_do_nothing(index_elements=[Variant.sku])
        .returning(Variant)
    )
    return (await session.scalars(statement)).all()


async def get_variant(session: AsyncSession, variant_id: int) -> Variant | None:
    return await session.get(Variant, variant_id)


async def adjust_stock(session: AsyncSession, variant_id: int, delta: int) -> Variant | None:
    """Adds `delta` to the stock in one statement, unless it would leave 0..MAX_STOCK.

    `stock = stock + :delta` is computed by PostgreSQL on the current row, under its row
    lock, so it composes with concurrent checkouts; reading the stock into Python, adding,
    and writing it back would overwrite the sales made in between.
    """
    statement = (
        update(Variant)
        .where(Variant.id == variant_id, Variant.stock + delta >= 0)
        # Repeated additions must not reach the INTEGER column's limit (a 500 otherwise).
        .where(Variant.stock + delta <= MAX_STOCK)
        .values(stock=Variant.stock + delta)
        .returning(Variant)
        .execution_options(populate_existing=True)
    )
    return await session.scalar(statement)


async def get_image(session: AsyncSession, image_id: int) -> ProductImage | None:
    return await session.get(ProductImage, image_id)


async def next_image_position(session: AsyncSession, product_id: int) -> int:
    """After the product's last image: new uploads go to the end of the gallery."""
    query = select(func.coalesce(func.max(ProductImage.position) + 1, 0)).where(
        ProductImage.product_id == product_id
    )
    return await session.scalar(query) or 0


async def get_variant_for_sale(session: AsyncSession, variant_id: int) -> Variant | None:
    """The variant, if its product is in the catalogue (not archived)."""
    query = (
        select(Variant)
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.id == variant_id, Product.archived_at.is_(None))
    )
    return await session.scalar(query)

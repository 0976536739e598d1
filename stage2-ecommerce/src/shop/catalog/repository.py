"""The catalogue's SQL: listing with filters and full-text search, the category tree.

The public reads (a page of products, one product) return rows, not ORM objects, and
PostgreSQL nests each product's variants and images into JSON arrays itself
(`json_agg(json_build_object(...))` in a subquery per product): one statement and one
round trip for a whole page, and nothing for the ORM to build, track and link. The admin
reads and every write load `Product` objects, where tracking changes is the point.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple, TypedDict

from sqlalchemy import (
    CTE,
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    Integer,
    ScalarSelect,
    Select,
    String,
    bindparam,
    cast,
    func,
    literal,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import REGCONFIG, aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from roadmap_shared.database import core_connection
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


class VariantFields(TypedDict):
    """A variant as public responses show it, built by PostgreSQL (`_variants_json`)."""

    id: int
    sku: str
    name: str
    price: dict[str, Any]  # {"amount": 1999, "currency": "EUR"}
    in_stock: bool


class ImageFields(TypedDict):
    """An image as stored; the response turns `storage_key` into a URL."""

    id: int
    storage_key: str
    width: int
    height: int
    alt_text: str


class ProductRow(NamedTuple):
    id: int
    name: str
    description: str
    category_id: int
    created_at: datetime
    updated_at: datetime
    variants: list[VariantFields]  # by id
    images: list[ImageFields]  # in gallery order


def _json_array(element: ColumnElement[Any], *order_by: Any, where: ColumnElement[bool]) -> Any:
    """`[element, ...]` of the rows matching `where`, in order; `[]` when there are none
    (`json_agg` of no rows is NULL)."""
    aggregated = func.json_agg(aggregate_order_by(element, *order_by))
    return (
        select(func.coalesce(aggregated, text("'[]'::json")))
        .where(where)
        .correlate(Product)
        .scalar_subquery()
    )


def _variants_json() -> ScalarSelect[Any]:
    variant = func.json_build_object(
        "id", Variant.id,
        "sku", Variant.sku,
        "name", Variant.name,
        "price", func.json_build_object(
            "amount", Variant.price_amount, "currency", Variant.currency
        ),
        # Customers see whether a variant is in stock, never how many are left.
        "in_stock", Variant.stock > 0,
    )  # fmt: skip
    result: ScalarSelect[Any] = _json_array(
        variant, Variant.id, where=Variant.product_id == Product.id
    )
    return result


def _images_json() -> ScalarSelect[Any]:
    image = func.json_build_object(
        "id", ProductImage.id,
        "storage_key", ProductImage.storage_key,
        "width", ProductImage.width,
        "height", ProductImage.height,
        "alt_text", ProductImage.alt_text,
    )  # fmt: skip
    result: ScalarSelect[Any] = _json_array(
        image, ProductImage.position, ProductImage.id, where=ProductImage.product_id == Product.id
    )
    return result


def _product_rows() -> Select[*tuple[Any, ...]]:
    return select(
        Product.id,
        Product.name,
        Product.description,
        Product.category_id,
        Product.created_at,
        Product.updated_at,
        type_coerce(_variants_json(), JSON),
        type_coerce(_images_json(), JSON),
    )


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


# The public reads' statements are built once (one product) or once per shape of a list
# request (which filters it sets, and its order), and cached; a request only binds its
# values, and runs them through Core (`core_connection`). Building a statement this size
# from Python objects, and SQLAlchemy working out its cache key, cost more CPU than
# PostgreSQL took to answer it.
PUBLIC_PRODUCT = _product_rows().where(
    Product.id == bindparam("product_id", type_=BigInteger), Product.archived_at.is_(None)
)
FILTER_NAMES = ("q", "category", "min_price", "max_price", "in_stock")


async def get_public_product(session: AsyncSession, product_id: int) -> ProductRow | None:
    """A product of the catalogue (not archived) as its page shows it, in one statement."""
    connection = await core_connection(session)
    result = await connection.execute(PUBLIC_PRODUCT, {"product_id": product_id})
    row = result.one_or_none()
    return None if row is None else ProductRow(*row)


@cache
def _list_statements(
    shape: tuple[str, ...], sort: ProductSort
) -> tuple[Select[int], Select[*tuple[Any, ...]]]:
    """The count and the page for the filters named in `shape`, in `sort` order."""
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
        _product_rows()
        .join(summary, summary.c.product_id == Product.id)
        .where(Product.archived_at.is_(None))
    )
    search = func.websearch_to_tsquery(SEARCH_CONFIG, bindparam("q", type_=String))
    if "q" in shape:
        # `@@` is answered by the GIN index on the generated `search_vector` column.
        query = query.where(Product.search_vector.op("@@")(search))
    if "category" in shape:
        subtree = subtree_ids(Category.slug == bindparam("category", type_=String))
        query = query.where(Product.category_id.in_(select(subtree.c.id)))
    if "min_price" in shape:
        query = query.where(summary.c.price_from >= bindparam("min_price", type_=BigInteger))
    if "max_price" in shape:
        query = query.where(summary.c.price_from <= bindparam("max_price", type_=BigInteger))
    if "in_stock" in shape:
        in_stock = bindparam("in_stock", type_=Boolean)
        query = query.where(summary.c.in_stock.is_not_distinct_from(in_stock))

    counted = query.with_only_columns(Product.id, maintain_column_froms=True)
    count = select(func.count()).select_from(counted.subquery())

    # Every ordering ends with the primary key, so pages are stable when values tie.
    orderings: dict[ProductSort, list[ColumnElement[Any]]] = {
        ProductSort.NEWEST: [Product.created_at.desc(), Product.id.desc()],
        ProductSort.PRICE_ASC: [summary.c.price_from.asc(), Product.id.asc()],
        ProductSort.PRICE_DESC: [summary.c.price_from.desc(), Product.id.desc()],
        ProductSort.NAME: [Product.name.asc(), Product.id.asc()],
    }
    if sort is ProductSort.RELEVANCE and "q" in shape:
        order_by: list[ColumnElement[Any]] = [
            func.ts_rank(Product.search_vector, search).desc(),
            Product.id.desc(),
        ]
    else:
        order_by = orderings.get(sort, orderings[ProductSort.NEWEST])
    # The total rides along on every row of the page: a subquery that refers to nothing in
    # the row, which PostgreSQL runs once per statement (an InitPlan), not once per row.
    # One round trip instead of two; `list_products` only sends the count by itself when
    # no row came back to carry it.
    total = count.scalar_subquery().correlate(None)
    page = (
        query.add_columns(total)
        .order_by(*order_by)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )
    return count, page


async def list_products(
    session: AsyncSession, filters: ProductFilters, page: PageParams
) -> tuple[list[ProductRow], int]:
    """A page of catalogue products (not archived, with at least one variant) and the
    number of products matching `filters` in all: one statement, or two for an empty page."""
    values = {name: value for name in FILTER_NAMES if (value := getattr(filters, name)) is not None}
    count, page_query = _list_statements(tuple(values), filters.sort)
    connection = await core_connection(session)
    result = await connection.execute(
        page_query, {**values, "limit": page.size, "offset": page.offset}
    )
    rows = result.all()
    if not rows:  # nothing matches, or a page past the last one: no row carries the total
        return [], await connection.scalar(count, values) or 0
    # Each row is the product's columns, then the total.
    return [ProductRow(*row[:-1]) for row in rows], rows[0][-1]


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

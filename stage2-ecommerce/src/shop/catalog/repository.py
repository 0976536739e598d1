"""The catalogue's SQL: listing with filters and full-text search, the category tree.

The public reads return what a response shows, not ORM objects. One product is a row in
which PostgreSQL has nested the variants and images as JSON arrays
(`json_agg(json_build_object(...))` in a subquery per product). A list goes one step
further: PostgreSQL writes the page's products whole, in `ProductSummary`'s shape, as one
JSON array, with the number of all matches beside it (`_list_statement`); only the images'
URLs are left for later (`schemas.product_summaries`), because only the storage can make
them. Either way one statement and one round trip whatever the page size, and nothing
for the ORM to build, track and link. The admin reads and every write load `Product`
objects, where tracking changes is the point.
"""

from collections.abc import Mapping, Sequence
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
    Label,
    ScalarSelect,
    Select,
    SQLColumnExpression,
    String,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
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


class ListedProduct(TypedDict):
    """A product as a list shows it (`ProductSummary`'s fields, in its order), written by
    PostgreSQL (`_list_statement`), but for its images' URLs."""

    id: int
    name: str
    category_id: int
    price_from: dict[str, Any]
    in_stock: bool
    variants: list[VariantFields]
    images: list[ImageFields]
    created_at: str  # written as pydantic writes a datetime


class ProductRow(NamedTuple):
    id: int
    name: str
    description: str
    category_id: int
    created_at: datetime
    updated_at: datetime
    variants: list[VariantFields]  # by id
    images: list[ImageFields]  # in gallery order


def _json_key(name: str) -> ColumnElement[str]:
    # Inline, not a bind parameter (SQLAlchemy's default for a Python value): the names are
    # this module's constants, and as parameters the two dozen in a list's statement would
    # be processed and sent again with every execution.
    return literal_column(f"'{name}'")


def _json_object(fields: dict[str, Any]) -> ColumnElement[Any]:
    """`{"name": value, ...}`, built by PostgreSQL, in `fields`' order."""
    return func.json_build_object(
        *(part for name, value in fields.items() for part in (_json_key(name), value))
    )


def _json_timestamp(moment: ColumnElement[datetime]) -> ColumnElement[str]:
    """`2026-01-02T03:04:05.123456Z`, as pydantic writes the datetime asyncpg returns: UTC,
    the microseconds in full, and none at all when they are zero."""
    written = func.to_char(
        func.timezone(literal_column("'UTC'"), moment),
        literal_column('\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\''),
    )
    return func.replace(written, literal_column("'.000000Z'"), literal_column("'Z'"))


def _json_array(
    element: ColumnElement[Any], *order_by: Any, where: ColumnElement[bool], source: Any
) -> ScalarSelect[Any]:
    """`[element, ...]` of the rows of `source` matching `where`, in order; `[]` when there
    are none (`json_agg` of no rows is NULL). Correlated with the enclosing query."""
    aggregated = func.json_agg(aggregate_order_by(element, *order_by))
    result: ScalarSelect[Any] = (
        select(func.coalesce(aggregated, text("'[]'::json")))
        .where(where)
        .correlate_except(source)
        .scalar_subquery()
    )
    return result


def _variants_json(product_id: SQLColumnExpression[int]) -> ScalarSelect[Any]:
    variant = _json_object(
        {
            "id": Variant.id,
            "sku": Variant.sku,
            "name": Variant.name,
            "price": _price_json(),
            # Customers see whether a variant is in stock, never how many are left.
            "in_stock": Variant.stock > 0,
        }
    )
    return _json_array(variant, Variant.id, where=Variant.product_id == product_id, source=Variant)


def _images_json(product_id: SQLColumnExpression[int]) -> ScalarSelect[Any]:
    image = _json_object(
        {
            "id": ProductImage.id,
            "storage_key": ProductImage.storage_key,
            "width": ProductImage.width,
            "height": ProductImage.height,
            "alt_text": ProductImage.alt_text,
        }
    )
    return _json_array(
        image,
        ProductImage.position,
        ProductImage.id,
        where=ProductImage.product_id == product_id,
        source=ProductImage,
    )


def _price_json() -> ColumnElement[Any]:
    """A variant's price, as `Money`."""
    return _json_object({"amount": Variant.price_amount, "currency": Variant.currency})


def _cheapest_price_json(product_id: SQLColumnExpression[int]) -> ScalarSelect[Any]:
    """The price of the product's cheapest variant (the first by id among equals)."""
    result: ScalarSelect[Any] = (
        select(_price_json())
        .where(Variant.product_id == product_id)
        .order_by(Variant.price_amount, Variant.id)
        .limit(1)
        .correlate_except(Variant)
        .scalar_subquery()
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
        type_coerce(_variants_json(Product.id), JSON),
        type_coerce(_images_json(Product.id), JSON),
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


def _in_order(
    sort: ProductSort, keys: Mapping[str, ColumnElement[Any]]
) -> list[ColumnElement[Any]]:
    """The ORDER BY of `sort`, on the columns named in `keys`: `_list_statement` orders
    twice, the products to choose a page, then the chosen page's JSON."""
    # Every ordering ends with the primary key, so pages are stable when values tie.
    orderings: dict[ProductSort, list[ColumnElement[Any]]] = {
        ProductSort.NEWEST: [keys["created_at"].desc(), keys["id"].desc()],
        ProductSort.PRICE_ASC: [keys["price_from"].asc(), keys["id"].asc()],
        ProductSort.PRICE_DESC: [keys["price_from"].desc(), keys["id"].desc()],
        ProductSort.NAME: [keys["name"].asc(), keys["id"].asc()],
    }
    if sort is ProductSort.RELEVANCE and "rank" in keys:
        return [keys["rank"].desc(), keys["id"].desc()]
    return orderings.get(sort, orderings[ProductSort.NEWEST])


@cache
def _list_statement(shape: tuple[str, ...], sort: ProductSort) -> Select[list[ListedProduct], int]:
    """The page's products, as PostgreSQL writes them, and the number of all that match,
    for the filters named in `shape`, in `sort` order."""
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
    search = func.websearch_to_tsquery(SEARCH_CONFIG, bindparam("q", type_=String))
    conditions: list[ColumnElement[bool]] = [Product.archived_at.is_(None)]
    if "q" in shape:
        # `@@` is answered by the GIN index on the generated `search_vector` column.
        conditions.append(Product.search_vector.op("@@")(search))
    if "category" in shape:
        subtree = subtree_ids(Category.slug == bindparam("category", type_=String))
        conditions.append(Product.category_id.in_(select(subtree.c.id)))
    if "min_price" in shape:
        conditions.append(summary.c.price_from >= bindparam("min_price", type_=BigInteger))
    if "max_price" in shape:
        conditions.append(summary.c.price_from <= bindparam("max_price", type_=BigInteger))
    if "in_stock" in shape:
        in_stock = bindparam("in_stock", type_=Boolean)
        conditions.append(summary.c.in_stock.is_not_distinct_from(in_stock))
    matching = (
        select(Product.id).join(summary, summary.c.product_id == Product.id).where(*conditions)
    )
    count = select(func.count()).select_from(matching.subquery())

    # The page is chosen first, with the columns it is ordered by and shows, and only then
    # turned into JSON (a "deferred join"): PostgreSQL computes a SELECT list for every row
    # it reads, the rows OFFSET skips included, so `?page=50` would otherwise write the
    # variants and images of 1,000 products to show 20.
    columns: dict[str, SQLColumnExpression[Any]] = {
        "id": Product.id,
        "name": Product.name,
        "category_id": Product.category_id,
        "created_at": Product.created_at,
        "price_from": summary.c.price_from,
        "in_stock": summary.c.in_stock,
    }
    if "q" in shape:
        columns["rank"] = func.ts_rank(Product.search_vector, search)
    labelled: dict[str, Label[Any]] = {name: value.label(name) for name, value in columns.items()}
    page = (
        matching.with_only_columns(*labelled.values(), maintain_column_froms=True)
        .order_by(*_in_order(sort, labelled))
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery("page")
    )
    product = _json_object(
        {
            "id": page.c.id,
            "name": page.c.name,
            "category_id": page.c.category_id,
            "price_from": _cheapest_price_json(page.c.id),
            "in_stock": page.c.in_stock,
            "variants": _variants_json(page.c.id),
            "images": _images_json(page.c.id),
            "created_at": _json_timestamp(page.c.created_at),
        }
    )
    # json_agg keeps the order it is given, so it is given the page's; an empty page
    # aggregates to NULL, not to an empty array.
    products = func.coalesce(
        func.json_agg(aggregate_order_by(product, *_in_order(sort, dict(page.c.items())))),
        text("'[]'::json"),
    )
    # The total: a subquery that refers to nothing in the page, so PostgreSQL runs it once
    # (an InitPlan). The statement aggregates, so it returns one row, even for an empty page.
    total = count.scalar_subquery().correlate(None)
    return select(type_coerce(products, JSON), total).select_from(page)


async def list_products(
    session: AsyncSession, filters: ProductFilters, page: PageParams
) -> tuple[list[ListedProduct], int]:
    """A page of catalogue products (not archived, with at least one variant) and the
    number of products matching `filters` in all, in one statement whatever the page."""
    values = {name: value for name in FILTER_NAMES if (value := getattr(filters, name)) is not None}
    statement = _list_statement(tuple(values), filters.sort)
    connection = await core_connection(session)
    result = await connection.execute(
        statement, {**values, "limit": page.size, "offset": page.offset}
    )
    products, total = result.one()
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

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from roadmap_shared.fields import StoredBigId, StoredText
from shop.catalog.ordering import ProductSort
from shop.catalog.repository import ImageFields, ListedProduct, ProductRow
from shop.models import Category, Product, ProductImage, Variant
from shop.models.catalog import MAX_STOCK
from shop.schemas import Money

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MAX_PRICE = 100_000_000  # one million in major units: a typo guard, not a business rule
MAX_VARIANTS_PER_PRODUCT = 50


# --- categories -----------------------------------------------------------------------


class CategoryCreate(BaseModel):
    name: StoredText = Field(min_length=1, max_length=100)
    slug: str = Field(min_length=1, max_length=100, pattern=SLUG_PATTERN)
    parent_id: StoredBigId | None = None


class CategoryUpdate(BaseModel):
    """Only the fields sent are changed; `"parent_id": null` makes the category a root."""

    name: StoredText | None = Field(default=None, min_length=1, max_length=100)
    parent_id: StoredBigId | None = None


class CategoryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    slug: str
    parent_id: int | None


class CategoryNode(BaseModel):
    id: int
    name: str
    slug: str
    children: list["CategoryNode"]


# --- variants -------------------------------------------------------------------------


class VariantCreate(BaseModel):
    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    name: StoredText = Field(min_length=1, max_length=100)
    price_amount: int = Field(ge=0, le=MAX_PRICE, description="In the currency's minor unit")
    stock: int = Field(default=0, ge=0, le=MAX_STOCK)


class VariantUpdate(BaseModel):
    name: StoredText | None = Field(default=None, min_length=1, max_length=100)
    price_amount: int | None = Field(default=None, ge=0, le=MAX_PRICE)


class StockAdjustment(BaseModel):
    """Relative, never absolute: "add 5" stays right when checkouts run at the same time;
    "set to 15" would overwrite the sales that happened since the admin looked."""

    delta: int = Field(ge=-MAX_STOCK, le=MAX_STOCK, description="Units to add (negative: remove)")

    @model_validator(mode="after")
    def _not_zero(self) -> Self:
        if self.delta == 0:
            raise ValueError("delta must not be zero")
        return self


class VariantPublic(BaseModel):
    id: int
    sku: str
    name: str
    price: Money
    in_stock: bool


class VariantAdminPublic(BaseModel):
    id: int
    product_id: int
    sku: str
    name: str
    price: Money
    stock: int


# --- images ---------------------------------------------------------------------------


class ImagePublic(BaseModel):
    id: int
    url: str
    width: int
    height: int
    alt_text: str


# --- products -------------------------------------------------------------------------


class ProductCreate(BaseModel):
    category_id: StoredBigId
    name: StoredText = Field(min_length=1, max_length=200)
    description: StoredText = Field(default="", max_length=10_000)
    variants: list[VariantCreate] = Field(min_length=1, max_length=MAX_VARIANTS_PER_PRODUCT)


class ProductUpdate(BaseModel):
    category_id: StoredBigId | None = None
    name: StoredText | None = Field(default=None, min_length=1, max_length=200)
    description: StoredText | None = Field(default=None, max_length=10_000)


class ProductSummary(BaseModel):
    """A product in a list: enough to draw a product card."""

    id: int
    name: str
    category_id: int
    price_from: Money = Field(description="The lowest price among its variants")
    in_stock: bool
    variants: list[VariantPublic]
    images: list[ImagePublic]
    created_at: datetime


class ProductDetail(BaseModel):
    id: int
    name: str
    description: str
    category_id: int
    variants: list[VariantPublic]
    images: list[ImagePublic]
    created_at: datetime
    updated_at: datetime


class ProductAdminPublic(BaseModel):
    id: int
    name: str
    description: str
    category_id: int
    archived_at: datetime | None
    variants: list[VariantAdminPublic]
    images: list[ImagePublic]
    created_at: datetime
    updated_at: datetime


# --- listing --------------------------------------------------------------------------


class ProductQuery(BaseModel):
    """The query string of `GET /products`: the search, the filters and the order. The
    page and its size are read by `PageParamsDep`."""

    q: StoredText | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description='Full-text search: `"red shoes" -kids`',
    )
    category: StoredText | None = Field(
        default=None, max_length=100, description="A category slug; includes subcategories"
    )
    min_price: int | None = Field(
        default=None, ge=0, le=MAX_PRICE, description="Lowest `price_from`, minor units"
    )
    max_price: int | None = Field(
        default=None, ge=0, le=MAX_PRICE, description="Highest `price_from`, minor units"
    )
    in_stock: bool | None = Field(default=None, description="Only products with some stock")
    sort: ProductSort | None = Field(
        default=None, description="Default: `relevance` with `q`, else `newest`"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        low, high = self.min_price, self.max_price
        if low is not None and high is not None and low > high:
            raise ValueError("`min_price` must not be greater than `max_price`")
        if self.sort is ProductSort.RELEVANCE and self.q is None:
            raise ValueError("`sort=relevance` ranks search results; it needs `q`")
        return self

    @property
    def order(self) -> ProductSort:
        return self.sort or (ProductSort.RELEVANCE if self.q else ProductSort.NEWEST)


# --- from rows to responses -----------------------------------------------------------

ImageUrl = Callable[[str], str]  # storage key -> URL (the storage decides)


def variant_admin_public(variant: Variant) -> VariantAdminPublic:
    return VariantAdminPublic(
        id=variant.id,
        product_id=variant.product_id,
        sku=variant.sku,
        name=variant.name,
        price=Money(amount=variant.price_amount, currency=variant.currency),
        stock=variant.stock,
    )


def image_public(image: ProductImage, image_url: ImageUrl) -> ImagePublic:
    return ImagePublic(
        id=image.id,
        url=image_url(image.storage_key),
        width=image.width,
        height=image.height,
        alt_text=image.alt_text,
    )


# The public reads go from rows to JSON without response models. Every value is already
# of its response type: the columns by theirs, the variants built by PostgreSQL in
# `VariantPublic`'s shape (`repository._variants_json`), and a list's products whole, in
# `ProductSummary`'s (`repository._list_statement`). Building a model per product,
# variant and image validated all of it again, and on a page of 20 that was the largest
# part of the request's CPU after the statement itself. The routes still declare
# `ProductSummary` and `ProductDetail` as their response model, for the OpenAPI document,
# and the API tests compare what these return with it.


def _stored_image_public(image: ImageFields, image_url: ImageUrl) -> dict[str, Any]:
    return {
        "id": image["id"],
        "url": image_url(image["storage_key"]),
        "width": image["width"],
        "height": image["height"],
        "alt_text": image["alt_text"],
    }


def product_summaries(products: list[ListedProduct], image_url: ImageUrl) -> list[dict[str, Any]]:
    """`ProductSummary`'s fields, for `to_json`. PostgreSQL wrote all of them but the
    images' URLs, which only the storage can make (an S3 URL is signed per key, in Python):
    they are put in here, in one pass over the page."""
    return [
        {
            **product,
            "images": [_stored_image_public(image, image_url) for image in product["images"]],
        }
        for product in products
    ]


def product_detail(product: ProductRow, image_url: ImageUrl) -> dict[str, Any]:
    """`ProductDetail`'s fields, for `to_json`."""
    return {
        "id": product.id,
        "name": product.name,
        "description": product.description,
        "category_id": product.category_id,
        "variants": product.variants,
        "images": [_stored_image_public(image, image_url) for image in product.images],
        "created_at": product.created_at,
        "updated_at": product.updated_at,
    }


def product_admin_public(product: Product, image_url: ImageUrl) -> ProductAdminPublic:
    return ProductAdminPublic(
        id=product.id,
        name=product.name,
        description=product.description,
        category_id=product.category_id,
        archived_at=product.archived_at,
        variants=[variant_admin_public(variant) for variant in product.variants],
        images=[image_public(image, image_url) for image in product.images],
        created_at=product.created_at,
        updated_at=product.updated_at,
    )


def category_tree(categories: Sequence[Category]) -> list[CategoryNode]:
    """Nests a flat list (one query) into a tree, in Python: O(n), no recursion in SQL."""
    nodes = {c.id: CategoryNode(id=c.id, name=c.name, slug=c.slug, children=[]) for c in categories}
    roots: list[CategoryNode] = []
    for category in categories:  # already sorted by name, so children come out sorted too
        if category.parent_id is None:
            roots.append(nodes[category.id])
        elif parent := nodes.get(category.parent_id):
            parent.children.append(nodes[category.id])
    return roots

"""The catalogue's rules: what admins may create and change, and what the public sees.

Every write names the cached pages it makes stale (`CatalogCache.forget_*`); they go stale
once the request's transaction has committed.
"""

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.after_commit import after_commit
from roadmap_shared.database import utcnow
from roadmap_shared.errors import (
    Conflict,
    NotFound,
    ServiceUnavailable,
    UnprocessableContent,
    UnsupportedMediaType,
)
from roadmap_shared.pagination import PageParams
from roadmap_shared.storage.base import ImageStorage, StorageError
from roadmap_shared.storage.images import InvalidImage, NotAnAcceptedImage, inspect_image
from shop.catalog import repository
from shop.catalog.cache import CatalogCache
from shop.catalog.repository import ListedProduct, ProductFilters, ProductRow
from shop.catalog.schemas import (
    CategoryCreate,
    CategoryUpdate,
    ProductCreate,
    ProductUpdate,
    VariantCreate,
    VariantUpdate,
)
from shop.models import Category, Product, ProductImage, Variant
from shop.models.catalog import MAX_STOCK

logger = logging.getLogger(__name__)

# --- categories -----------------------------------------------------------------------


async def _require_category(session: AsyncSession, category_id: int, *, field: str) -> Category:
    category = await repository.get_category(session, category_id)
    if category is None:
        raise UnprocessableContent(f"`{field}` {category_id} is not a category")
    return category


async def create_category(
    session: AsyncSession, cache: CatalogCache, data: CategoryCreate
) -> Category:
    if data.parent_id is not None:
        await _require_category(session, data.parent_id, field="parent_id")
    category = await repository.add_category_unless_slug_taken(
        session, name=data.name, slug=data.slug, parent_id=data.parent_id
    )
    if category is None:
        raise Conflict(f"A category with the slug {data.slug!r} already exists")
    cache.forget_categories(session)
    return category


async def update_category(
    session: AsyncSession, cache: CatalogCache, category_id: int, data: CategoryUpdate
) -> Category:
    category = await repository.get_category(session, category_id)
    if category is None:
        raise NotFound("No such category")
    if data.name is not None:
        category.name = data.name
    if "parent_id" in data.model_fields_set and data.parent_id != category.parent_id:
        if data.parent_id is not None:
            await _require_category(session, data.parent_id, field="parent_id")
            await repository.lock_category_tree(session)
            # Moving a category under itself or one of its descendants would cut a loop
            # out of the tree: every category in it would lose its way to a root.
            if await repository.is_in_subtree(
                session, root_id=category.id, candidate_id=data.parent_id
            ):
                raise Conflict("A category cannot be moved under itself or its descendants")
        category.parent_id = data.parent_id
    await session.flush()
    cache.forget_categories(session)
    return category


# --- products -------------------------------------------------------------------------


async def list_products(
    session: AsyncSession, filters: ProductFilters, page: PageParams
) -> tuple[list[ListedProduct], int]:
    return await repository.list_products(session, filters, page)


async def get_public_product(session: AsyncSession, product_id: int) -> ProductRow:
    product = await repository.get_public_product(session, product_id)
    if product is None:
        raise NotFound("No such product")
    return product


async def get_product_for_admin(session: AsyncSession, product_id: int) -> Product:
    product = await repository.get_product(session, product_id, include_archived=True)
    if product is None:
        raise NotFound("No such product")
    return product


async def _add_variants(
    session: AsyncSession, product_id: int, variants: Sequence[VariantCreate], currency: str
) -> Sequence[Variant]:
    skus = [variant.sku for variant in variants]
    if duplicates := sorted({sku for sku in skus if skus.count(sku) > 1}):
        raise UnprocessableContent(f"SKUs repeated in the request: {', '.join(duplicates)}")
    rows = [{**variant.model_dump(), "currency": currency} for variant in variants]
    added = await repository.add_variants_unless_sku_taken(session, product_id, rows)
    if len(added) < len(rows):
        taken = sorted(set(skus) - {variant.sku for variant in added})
        # Raising rolls back the whole request, including the variants that did insert.
        raise Conflict(f"SKUs already in use: {', '.join(taken)}")
    return added


async def create_product(
    session: AsyncSession, cache: CatalogCache, data: ProductCreate, *, currency: str
) -> Product:
    await _require_category(session, data.category_id, field="category_id")
    product = Product(category_id=data.category_id, name=data.name, description=data.description)
    session.add(product)
    await session.flush()
    await _add_variants(session, product.id, data.variants, currency)
    cache.forget_products(session, [product.id])
    return await get_product_for_admin(session, product.id)


async def update_product(
    session: AsyncSession, cache: CatalogCache, product_id: int, data: ProductUpdate
) -> Product:
    product = await get_product_for_admin(session, product_id)
    if data.category_id is not None:
        await _require_category(session, data.category_id, field="category_id")
        product.category_id = data.category_id
    if data.name is not None:
        product.name = data.name
    if data.description is not None:
        product.description = data.description
    await session.flush()
    cache.forget_products(session, [product_id])
    return product


async def set_archived(
    session: AsyncSession, cache: CatalogCache, product_id: int, *, archived: bool
) -> Product:
    """Archiving hides a product from the catalogue and from checkout; it is never deleted,
    because past orders refer to its variants. Both directions are idempotent."""
    product = await get_product_for_admin(session, product_id)
    archived_at: datetime | None = (product.archived_at or utcnow()) if archived else None
    product.archived_at = archived_at
    await session.flush()
    cache.forget_products(session, [product_id])
    return product


async def add_variant(
    session: AsyncSession,
    cache: CatalogCache,
    product_id: int,
    data: VariantCreate,
    *,
    currency: str,
) -> Variant:
    await get_product_for_admin(session, product_id)
    [variant] = await _add_variants(session, product_id, [data], currency)
    cache.forget_products(session, [product_id])
    return variant


async def update_variant(
    session: AsyncSession, cache: CatalogCache, variant_id: int, data: VariantUpdate
) -> Variant:
    variant = await repository.get_variant(session, variant_id)
    if variant is None:
        raise NotFound("No such variant")
    if data.name is not None:
        variant.name = data.name
    if data.price_amount is not None:
        variant.price_amount = data.price_amount
    await session.flush()
    cache.forget_products(session, [variant.product_id])
    return variant


async def adjust_stock(
    session: AsyncSession, cache: CatalogCache, variant_id: int, delta: int
) -> Variant:
    variant = await repository.adjust_stock(session, variant_id, delta)
    if variant is not None:
        cache.forget_products(session, [variant.product_id])
        return variant
    variant = await repository.get_variant(session, variant_id)
    if variant is None:
        raise NotFound("No such variant")
    if delta < 0:
        raise Conflict("The adjustment would take the stock below zero")
    raise Conflict(f"The adjustment would take the stock above {MAX_STOCK}")


# --- images ---------------------------------------------------------------------------


async def add_image(
    session: AsyncSession,
    cache: CatalogCache,
    storage: ImageStorage,
    *,
    product_id: int,
    data: bytes,
    alt_text: str,
    min_side: int,
    max_side: int,
) -> ProductImage:
    """Checks the uploaded `data` from its bytes (never the client's name or type), stores
    it, and adds it to the product after its other images."""
    await get_product_for_admin(session, product_id)
    try:
        # CPU work (Pillow parses the header and checks the structure): off the event loop.
        info = await asyncio.to_thread(inspect_image, data, min_side=min_side, max_side=max_side)
    except NotAnAcceptedImage as exc:
        raise UnsupportedMediaType(f"Upload a JPEG, PNG or WebP image: {exc}") from exc
    except InvalidImage as exc:
        raise UnprocessableContent(f"The image cannot be used: {exc}") from exc

    # The file is stored before the row is committed. If the commit then fails, a file
    # nobody refers to is left behind (cheap to sweep); the other order could leave a row
    # pointing at a file that does not exist (a broken page).
    key = f"products/{product_id}/{uuid.uuid4().hex}.{info.extension}"
    try:
        await storage.save(key, data, info.content_type)
    except StorageError as exc:
        # The details (bucket, path, error code) are for the operator, not the client.
        logger.warning("image storage failed: %s", exc)
        raise ServiceUnavailable(
            "The image storage is unavailable; try again later", retry_after_seconds=5
        ) from exc

    position = await repository.next_image_position(session, product_id)
    image = ProductImage(
        product_id=product_id,
        storage_key=key,
        content_type=info.content_type,
        width=info.width,
        height=info.height,
        byte_size=len(data),
        alt_text=alt_text,
        position=position,
    )
    session.add(image)
    await session.flush()
    cache.forget_products(session, [product_id])
    return image


async def delete_image(
    session: AsyncSession, cache: CatalogCache, storage: ImageStorage, image_id: int
) -> None:
    image = await repository.get_image(session, image_id)
    if image is None:
        raise NotFound("No such image")
    await session.delete(image)
    await session.flush()
    cache.forget_products(session, [image.product_id])
    # The bytes go only once the row is gone for good.
    key = image.storage_key
    after_commit(session, lambda: _delete_stored_image(storage, key))


async def _delete_stored_image(storage: ImageStorage, key: str) -> None:
    """Deletes the bytes of an image whose row is already gone. If the storage fails now,
    the deletion has still happened for every client (nothing refers to the object); the
    orphan is logged for a sweep rather than turned into an error after the commit."""
    try:
        await storage.delete(key)
    except StorageError:
        logger.warning("could not delete stored image %s; left for a sweep", key, exc_info=True)

"""Catalogue administration. Every route needs an admin; every write makes the cached pages
it affects stale once the transaction has committed (see `shop.catalog.service`)."""

import asyncio
import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile, status

from roadmap_shared.errors import (
    ContentTooLarge,
    ServiceUnavailable,
    UnprocessableContent,
    UnsupportedMediaType,
    problem_responses,
)
from roadmap_shared.fields import MAX_INT64, BigIdPath, StoredText
from shop.catalog import service
from shop.catalog.schemas import (
    CategoryCreate,
    CategoryPublic,
    CategoryUpdate,
    ImagePublic,
    ProductAdminPublic,
    ProductCreate,
    ProductUpdate,
    StockAdjustment,
    VariantAdminPublic,
    VariantCreate,
    VariantUpdate,
    image_public,
    product_admin_public,
    variant_admin_public,
)
from shop.dependencies import (
    CatalogCacheDep,
    SessionDep,
    SettingsDep,
    StorageDep,
    get_admin,
)
from shop.storage.base import StorageError
from shop.storage.images import InvalidImage, NotAnAcceptedImage, inspect_image

logger = logging.getLogger(__name__)

router = APIRouter(
    prefix="/admin",
    tags=["catalogue administration"],
    dependencies=[Depends(get_admin)],
    responses=problem_responses(401, 403),
)

# The body limit for uploads is set for this path in shop.main; everything else under
# /admin keeps the default limit.
PRODUCT_IMAGES_PATH = "/admin/product-images"


# --- categories -----------------------------------------------------------------------


@router.post(
    "/categories",
    status_code=status.HTTP_201_CREATED,
    summary="Create a category",
    responses=problem_responses(409, 422),
)
async def create_category(
    body: CategoryCreate, session: SessionDep, cache: CatalogCacheDep
) -> CategoryPublic:
    category = await service.create_category(session, cache, body)
    return CategoryPublic.model_validate(category)


@router.patch(
    "/categories/{category_id}",
    summary="Rename or move a category",
    responses=problem_responses(404, 409, 422),
)
async def update_category(
    category_id: BigIdPath,
    body: CategoryUpdate,
    session: SessionDep,
    cache: CatalogCacheDep,
) -> CategoryPublic:
    category = await service.update_category(session, cache, category_id, body)
    return CategoryPublic.model_validate(category)


# --- products -------------------------------------------------------------------------


@router.post(
    "/products",
    status_code=status.HTTP_201_CREATED,
    summary="Create a product with its variants",
    responses=problem_responses(409, 422),
)
async def create_product(
    *,
    body: ProductCreate,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    cache: CatalogCacheDep,
) -> ProductAdminPublic:
    product = await service.create_product(session, cache, body, currency=settings.currency)
    return product_admin_public(product, storage.url)


@router.get(
    "/products/{product_id}",
    summary="A product as admins see it: archived or not, with exact stock",
    responses=problem_responses(404),
)
async def get_product(
    product_id: BigIdPath, session: SessionDep, storage: StorageDep
) -> ProductAdminPublic:
    product = await service.get_product_for_admin(session, product_id)
    return product_admin_public(product, storage.url)


@router.patch(
    "/products/{product_id}", summary="Edit a product", responses=problem_responses(404, 422)
)
async def update_product(
    *,
    product_id: BigIdPath,
    body: ProductUpdate,
    session: SessionDep,
    storage: StorageDep,
    cache: CatalogCacheDep,
) -> ProductAdminPublic:
    product = await service.update_product(session, cache, product_id, body)
    return product_admin_public(product, storage.url)


@router.post(
    "/products/{product_id}/archive",
    summary="Take a product out of the catalogue (idempotent)",
    responses=problem_responses(404),
)
async def archive_product(
    product_id: BigIdPath,
    session: SessionDep,
    storage: StorageDep,
    cache: CatalogCacheDep,
) -> ProductAdminPublic:
    product = await service.set_archived(session, cache, product_id, archived=True)
    return product_admin_public(product, storage.url)


@router.post(
    "/products/{product_id}/restore",
    summary="Put an archived product back in the catalogue (idempotent)",
    responses=problem_responses(404),
)
async def restore_product(
    product_id: BigIdPath,
    session: SessionDep,
    storage: StorageDep,
    cache: CatalogCacheDep,
) -> ProductAdminPublic:
    product = await service.set_archived(session, cache, product_id, archived=False)
    return product_admin_public(product, storage.url)


# --- variants -------------------------------------------------------------------------


@router.post(
    "/products/{product_id}/variants",
    status_code=status.HTTP_201_CREATED,
    summary="Add a variant to a product",
    responses=problem_responses(404, 409),
)
async def add_variant(
    *,
    product_id: BigIdPath,
    body: VariantCreate,
    session: SessionDep,
    settings: SettingsDep,
    cache: CatalogCacheDep,
) -> VariantAdminPublic:
    variant = await service.add_variant(
        session, cache, product_id, body, currency=settings.currency
    )
    return variant_admin_public(variant)


@router.patch(
    "/variants/{variant_id}",
    summary="Rename a variant or change its price",
    responses=problem_responses(404),
)
async def update_variant(
    variant_id: BigIdPath,
    body: VariantUpdate,
    session: SessionDep,
    cache: CatalogCacheDep,
) -> VariantAdminPublic:
    variant = await service.update_variant(session, cache, variant_id, body)
    return variant_admin_public(variant)


@router.post(
    "/variants/{variant_id}/stock-adjustments",
    summary="Add or remove stock (relative, safe alongside checkouts)",
    responses=problem_responses(404, 409),
)
async def adjust_stock(
    variant_id: BigIdPath,
    body: StockAdjustment,
    session: SessionDep,
    cache: CatalogCacheDep,
) -> VariantAdminPublic:
    variant = await service.adjust_stock(session, cache, variant_id, body.delta)
    return variant_admin_public(variant)


# --- images ---------------------------------------------------------------------------


@router.post(
    PRODUCT_IMAGES_PATH.removeprefix("/admin"),
    status_code=status.HTTP_201_CREATED,
    summary="Upload a product image (JPEG, PNG or WebP)",
    responses=problem_responses(404, 413, 415, 422, 503),
)
async def upload_product_image(
    *,
    product_id: Annotated[int, Form(ge=1, le=MAX_INT64)],
    file: Annotated[UploadFile, File(description="The image; its type is read from its bytes")],
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    cache: CatalogCacheDep,
    alt_text: Annotated[StoredText, Form(max_length=200)] = "",
) -> ImagePublic:
    await service.get_product_for_admin(session, product_id)
    data = await file.read(settings.max_image_bytes + 1)
    if len(data) > settings.max_image_bytes:
        raise ContentTooLarge(f"The image is larger than {settings.max_image_bytes} bytes")
    try:
        info = await asyncio.to_thread(
            inspect_image,
            data,
            min_side=settings.min_image_side,
            max_side=settings.max_image_side,
        )
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
    image = await service.add_image(
        session,
        cache,
        product_id=product_id,
        storage_key=key,
        content_type=info.content_type,
        width=info.width,
        height=info.height,
        byte_size=len(data),
        alt_text=alt_text,
    )
    return image_public(image, storage.url)


@router.delete(
    PRODUCT_IMAGES_PATH.removeprefix("/admin") + "/{image_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a product image",
    responses=problem_responses(404),
)
async def delete_product_image(
    image_id: BigIdPath,
    session: SessionDep,
    storage: StorageDep,
    cache: CatalogCacheDep,
) -> Response:
    await service.delete_image(session, cache, storage, image_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""Catalogue administration. Every route needs an admin; every write makes the cached pages
it affects stale once the transaction has committed (see `catalog.catalog.service`)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Response, status

from catalog.catalog import service
from catalog.catalog.schemas import (
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
from catalog.catalog.uploads import ImageUploadDep
from catalog.dependencies import (
    CatalogCacheDep,
    SessionDep,
    SettingsDep,
    StorageDep,
    get_admin,
)
from roadmap_shared.errors import problem_responses
from roadmap_shared.fields import MAX_INT64, BigIdPath, StoredText

router = APIRouter(
    prefix="/admin",
    tags=["catalogue administration"],
    dependencies=[Depends(get_admin)],
    responses=problem_responses(401, 403),
)

# The body limit for uploads is set for this path in catalog.main; everything else under
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
    data: ImageUploadDep,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    cache: CatalogCacheDep,
    alt_text: Annotated[StoredText, Form(max_length=200)] = "",
) -> ImagePublic:
    image = await service.add_image(
        session,
        cache,
        storage,
        product_id=product_id,
        data=data,
        alt_text=alt_text,
        min_side=settings.min_image_side,
        max_side=settings.max_image_side,
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

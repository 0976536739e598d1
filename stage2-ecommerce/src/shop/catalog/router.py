"""The public catalogue: anyone may read it, and most reads come from the cache."""

import json
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import TypeAdapter

from roadmap_shared.errors import UnprocessableContent, problem_responses
from roadmap_shared.fields import BigIdPath, StoredText
from roadmap_shared.pagination import Page, PageParamsDep
from shop.catalog import repository, service
from shop.catalog.ordering import ProductSort
from shop.catalog.repository import ProductFilters
from shop.catalog.schemas import (
    MAX_PRICE,
    CategoryNode,
    ProductDetail,
    ProductSummary,
    category_tree,
    product_detail,
    product_summary,
)
from shop.dependencies import CatalogCacheDep, SessionDep, StorageDep

router = APIRouter(tags=["catalogue"])

_category_tree = TypeAdapter(list[CategoryNode])
JSON = "application/json"


@router.get("/categories", summary="The category tree", response_model=list[CategoryNode])
async def list_categories(session: SessionDep, cache: CatalogCacheDep) -> Response:
    async def load() -> bytes:
        return _category_tree.dump_json(category_tree(await repository.all_categories(session)))

    # Cached responses are JSON bytes, returned as they are: no parsing and re-serialising.
    return Response(await cache.category_tree(load), media_type=JSON)


@router.get(
    "/products",
    summary="Search and browse the catalogue",
    response_model=Page[ProductSummary],
    responses=problem_responses(422),
)
async def list_products(
    *,
    session: SessionDep,
    cache: CatalogCacheDep,
    storage: StorageDep,
    page: PageParamsDep,
    q: Annotated[
        StoredText | None,
        Query(min_length=1, max_length=200, description='Full-text search: `"red shoes" -kids`'),
    ] = None,
    category: Annotated[
        StoredText | None,
        Query(max_length=100, description="A category slug; includes subcategories"),
    ] = None,
    min_price: Annotated[
        int | None, Query(ge=0, le=MAX_PRICE, description="Lowest `price_from`, minor units")
    ] = None,
    max_price: Annotated[
        int | None, Query(ge=0, le=MAX_PRICE, description="Highest `price_from`, minor units")
    ] = None,
    in_stock: Annotated[bool | None, Query(description="Only products with some stock")] = None,
    sort: Annotated[
        ProductSort | None, Query(description="Default: `relevance` with `q`, else `newest`")
    ] = None,
) -> Response:
    if min_price is not None and max_price is not None and min_price > max_price:
        raise UnprocessableContent("`min_price` must not be greater than `max_price`")
    if sort is ProductSort.RELEVANCE and q is None:
        raise UnprocessableContent("`sort=relevance` ranks search results; it needs `q`")
    filters = ProductFilters(
        q=q,
        category=category,
        min_price=min_price,
        max_price=max_price,
        in_stock=in_stock,
        sort=sort or (ProductSort.RELEVANCE if q else ProductSort.NEWEST),
    )

    async def load() -> bytes:
        products, total = await service.list_products(session, filters, page)
        items = [product_summary(product, storage.url) for product in products]
        return Page.of(items, total=total, params=page).model_dump_json().encode()

    # The cache key is every input of the query, in a fixed order.
    query_key = json.dumps({**asdict(filters), **page.model_dump()}, sort_keys=True)
    return Response(await cache.product_list(query_key, load), media_type=JSON)


@router.get(
    "/products/{product_id}",
    summary="One product with its variants and images",
    response_model=ProductDetail,
    responses=problem_responses(404),
)
async def get_product(
    product_id: BigIdPath, session: SessionDep, cache: CatalogCacheDep, storage: StorageDep
) -> Response:
    async def load() -> bytes:
        product = await service.get_public_product(session, product_id)
        return product_detail(product, storage.url).model_dump_json().encode()

    # A 404 raised inside `load` is not cached: the exception passes through the cache.
    return Response(await cache.product_detail(product_id, load), media_type=JSON)

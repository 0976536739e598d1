"""The public catalogue: anyone may read it, and most reads come from the cache."""

import json
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import TypeAdapter
from pydantic_core import to_json

from roadmap_shared.errors import problem_responses
from roadmap_shared.fields import BigIdPath
from roadmap_shared.pagination import Page, PageParamsDep
from shop.catalog import repository, service
from shop.catalog.repository import ProductFilters
from shop.catalog.schemas import (
    CategoryNode,
    ProductDetail,
    ProductQuery,
    ProductSummary,
    category_tree,
    product_detail,
    product_summaries,
)
from shop.dependencies import CatalogCacheDep, SessionDep, StorageDep

router = APIRouter(tags=["catalogue"])

_category_tree = TypeAdapter(list[CategoryNode])
# A page whose items are `product_summaries`' dicts, serialised as they are (see schemas).
_SummaryPage = Page[dict[str, Any]]
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
    query: Annotated[ProductQuery, Query()],
) -> Response:
    filters = ProductFilters(
        q=query.q,
        category=query.category,
        min_price=query.min_price,
        max_price=query.max_price,
        in_stock=query.in_stock,
        sort=query.order,
    )

    async def load() -> bytes:
        products, total = await service.list_products(session, filters, page)
        items = product_summaries(products, storage.url)
        return _SummaryPage.of(items, total=total, params=page).model_dump_json().encode()

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
        return to_json(product_detail(product, storage.url))

    # A 404 raised inside `load` is not cached: the exception passes through the cache.
    return Response(await cache.product_detail(product_id, load), media_type=JSON)

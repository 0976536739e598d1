"""Exercise 1 (easy): a variant's availability, a catalog endpoint the gateway routes.
`make exercise STAGE=stage3-microservices N=1`"""

import httpx
import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.catalog.factories import make_product, variants_of
from tests.e2e.conftest import Shop

pytestmark = pytest.mark.exercise
TODO = "Exercise 1: GET /variants/{id} answers a variant's availability (see the README)"


async def test_a_variant_says_how_many_are_in_stock(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    product = await make_product(db_session, prices_and_stock=[(1000, 3), (2500, 0)])
    available, sold_out = await variants_of(db_session, product)

    answer = await client.get(f"/variants/{available.id}")
    assert answer.status_code == 200, TODO
    assert answer.json() == {
        "id": available.id,
        "product_id": product.id,
        "stock": 3,
        "in_stock": True,
    }, TODO
    assert (await client.get(f"/variants/{sold_out.id}")).json()["in_stock"] is False, TODO


async def test_unknown_archived_and_malformed_variants_are_refused(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    archived = await make_product(db_session, archived=True)
    (hidden,) = await variants_of(db_session, archived)

    for path in ["/variants/999999", f"/variants/{hidden.id}"]:
        answer = await client.get(path)
        assert answer.status_code == 404, f"{TODO}: {path} answers 404"
        assert answer.headers["content-type"] == "application/problem+json", TODO
    assert (await client.get("/variants/abc")).status_code == 422, TODO


async def test_the_gateway_routes_variants_to_the_catalog(
    shop: Shop, catalog_db: AsyncSession
) -> None:
    product = await make_product(catalog_db, prices_and_stock=[(1000, 2)])
    (variant,) = await variants_of(catalog_db, product)
    async with httpx.AsyncClient(base_url=shop.gateway, timeout=30) as http:
        answer = await http.get(f"/variants/{variant.id}")
    assert answer.status_code == 200, f"{TODO}: route /variants/ in gateway/nginx.conf"
    assert answer.json()["stock"] == 2, TODO

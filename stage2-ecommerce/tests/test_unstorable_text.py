"""Text PostgreSQL cannot store (a NUL character, a lone UTF-16 surrogate) is refused at
the edge as a 422 that names the field, on every route that writes text or searches with
it, never discovered by the database as a 500."""

import json

import pytest
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from shop.config import Settings
from shop.models import Role
from tests.factories import (
    ADDRESS,
    UPLOAD,
    auth,
    image_bytes,
    make_category,
    make_product,
    make_user,
    put_in_cart,
    variants_of,
)

NUL = "Pen\x00cil"


def assert_refused(response: Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {str(error["loc"][-1]) for error in response.json()["errors"]}


@pytest.mark.parametrize("parameter", ["q", "category"])
async def test_a_catalogue_search_with_a_nul_character_is_refused(
    client: AsyncClient, parameter: str
) -> None:
    response = await client.get("/products", params={parameter: NUL})

    assert_refused(response, parameter)


async def test_a_customer_cannot_register_with_a_nul_character_in_their_name(
    client: AsyncClient,
) -> None:
    body = {"email": "nul@example.com", "name": NUL, "password": "a long enough password"}

    assert_refused(await client.post("/auth/register", json=body), "name")


@pytest.mark.parametrize("field", ["name", "line1", "line2", "city", "postal_code"])
async def test_a_checkout_with_a_nul_character_in_the_address_is_refused(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, field: str
) -> None:
    user = await make_user(db_session)
    [variant] = await variants_of(db_session, await make_product(db_session))
    await put_in_cart(db_session, user, variant)

    response = await client.post(
        "/orders",
        json={"shipping_address": {**ADDRESS, field: NUL}},
        headers=auth(settings, user),
    )

    assert_refused(response, field)


async def test_a_checkout_with_a_lone_surrogate_in_the_address_is_refused(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)
    [variant] = await variants_of(db_session, await make_product(db_session))
    await put_in_cart(db_session, user, variant)
    # JSON can spell "\ud800"; it has no UTF-8 form, so it must be escaped, not encoded.
    body = json.dumps({"shipping_address": {**ADDRESS, "city": "Lon\ud800don"}})

    response = await client.post(
        "/orders",
        content=body,
        headers={**auth(settings, user), "Content-Type": "application/json"},
    )

    assert_refused(response, "city")


async def test_admins_cannot_store_a_nul_character_in_catalogue_text(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    headers = auth(settings, await make_user(db_session, role=Role.ADMIN))
    category = await make_category(db_session)
    product = await make_product(db_session, category=category)
    [variant] = await variants_of(db_session, product)
    variant_body = {"sku": "NUL-1", "name": NUL, "price_amount": 100}
    product_body = {"category_id": category.id, "name": "Pencil", "variants": [variant_body]}
    attempts = [
        ("POST", "/admin/categories", {"name": NUL, "slug": "pencils"}, "name"),
        ("PATCH", f"/admin/categories/{category.id}", {"name": NUL}, "name"),
        ("POST", "/admin/products", {**product_body, "name": NUL}, "name"),
        ("POST", "/admin/products", {**product_body, "description": NUL}, "description"),
        ("POST", "/admin/products", product_body, "name"),  # the variant's name
        ("PATCH", f"/admin/products/{product.id}", {"description": NUL}, "description"),
        ("POST", f"/admin/products/{product.id}/variants", variant_body, "name"),
        ("PATCH", f"/admin/variants/{variant.id}", {"name": NUL}, "name"),
    ]

    for method, url, body, field in attempts:
        assert_refused(await client.request(method, url, json=body, headers=headers), field)


async def test_an_image_with_a_nul_character_in_its_alt_text_is_refused(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    product = await make_product(db_session)

    response = await client.post(
        UPLOAD,
        data={"product_id": str(product.id), "alt_text": NUL},
        files={"file": ("photo.png", image_bytes(), "image/png")},
        headers=auth(settings, await make_user(db_session, role=Role.ADMIN)),
    )

    assert_refused(response, "alt_text")

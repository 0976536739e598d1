"""Catalogue administration: only admins, and every write checked."""

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from shop.config import Settings
from shop.models.catalog import MAX_STOCK
from tests.factories import auth, make_category, make_product, make_user, variants_of


@pytest.fixture
async def customer(db_session: AsyncSession, settings: Settings) -> dict[str, str]:
    return auth(settings, await make_user(db_session))


def product_body(category_id: int, *skus: str) -> dict[str, object]:
    return {
        "category_id": category_id,
        "name": "Desk lamp",
        "description": "Warm light for late nights",
        "variants": [
            {"sku": sku, "name": f"Colour {i}", "price_amount": 4999, "stock": 5}
            for i, sku in enumerate(skus or ("LAMP-1",))
        ],
    }


async def test_an_admin_creates_a_product_that_the_catalogue_then_shows(
    client: AsyncClient, db_session: AsyncSession, admin: dict[str, str]
) -> None:
    category = await make_category(db_session)

    created = await client.post(
        "/admin/products", json=product_body(category.id, "LAMP-W", "LAMP-B"), headers=admin
    )

    assert created.status_code == 201
    body = created.json()
    assert [v["sku"] for v in body["variants"]] == ["LAMP-W", "LAMP-B"]
    assert body["variants"][0]["price"] == {"amount": 4999, "currency": "EUR"}
    assert body["variants"][0]["stock"] == 5
    public = await client.get(f"/products/{body['id']}")
    assert public.status_code == 200
    assert public.json()["name"] == "Desk lamp"


async def test_catalogue_writes_need_an_admin(
    client: AsyncClient, db_session: AsyncSession, customer: dict[str, str]
) -> None:
    category = await make_category(db_session)
    product = await make_product(db_session)
    [variant] = await variants_of(db_session, product)
    writes = [
        ("POST", "/admin/categories", {"name": "X", "slug": "x"}),
        ("PATCH", f"/admin/categories/{category.id}", {"name": "Y"}),
        ("POST", "/admin/products", product_body(category.id)),
        ("GET", f"/admin/products/{product.id}", None),
        ("PATCH", f"/admin/products/{product.id}", {"name": "Z"}),
        ("POST", f"/admin/products/{product.id}/archive", None),
        ("POST", f"/admin/products/{product.id}/restore", None),
        (
            "POST",
            f"/admin/products/{product.id}/variants",
            {"sku": "N", "name": "N", "price_amount": 1},
        ),
        ("PATCH", f"/admin/variants/{variant.id}", {"price_amount": 1}),
        ("POST", f"/admin/variants/{variant.id}/stock-adjustments", {"delta": 1}),
        ("DELETE", "/admin/product-images/1", None),
    ]
    for method, path, body in writes:
        anonymous = await client.request(method, path, json=body)
        as_customer = await client.request(method, path, json=body, headers=customer)
        assert anonymous.status_code == 401, path
        assert as_customer.status_code == 403, path
        assert as_customer.headers["content-type"] == "application/problem+json"


async def test_a_sku_is_unique_across_the_catalogue(
    client: AsyncClient, db_session: AsyncSession, admin: dict[str, str]
) -> None:
    category = await make_category(db_session)
    await client.post("/admin/products", json=product_body(category.id, "TAKEN"), headers=admin)

    again = await client.post(
        "/admin/products", json=product_body(category.id, "FREE", "TAKEN"), headers=admin
    )
    twice_in_one = await client.post(
        "/admin/products", json=product_body(category.id, "SAME", "SAME"), headers=admin
    )

    assert again.status_code == 409
    assert "TAKEN" in again.json()["detail"]
    assert twice_in_one.status_code == 422
    # The conflicting request left nothing behind, not even its free SKU.
    listed = (await client.get("/products")).json()
    assert [v["sku"] for item in listed["items"] for v in item["variants"]] == ["TAKEN"]


async def test_invalid_products_are_refused(
    client: AsyncClient, db_session: AsyncSession, admin: dict[str, str]
) -> None:
    category = await make_category(db_session)
    valid = product_body(category.id)
    invalid_variant = {"sku": "X", "name": "X", "price_amount": -1}
    for body in (
        {**valid, "category_id": 999_999},  # no such category
        {**valid, "variants": []},
        {**valid, "variants": [invalid_variant]},
        {**valid, "variants": [{**invalid_variant, "price_amount": 1.5}]},  # no floats
        {**valid, "name": ""},
    ):
        response = await client.post("/admin/products", json=body, headers=admin)
        assert response.status_code == 422, body


async def test_an_admin_edits_a_product_and_its_variants(
    client: AsyncClient, db_session: AsyncSession, admin: dict[str, str]
) -> None:
    product = await make_product(db_session, name="Old name")
    [variant] = await variants_of(db_session, product)

    renamed = await client.patch(
        f"/admin/products/{product.id}", json={"name": "New name"}, headers=admin
    )
    repriced = await client.patch(
        f"/admin/variants/{variant.id}", json={"price_amount": 1234}, headers=admin
    )
    added = await client.post(
        f"/admin/products/{product.id}/variants",
        json={"sku": "EXTRA-1", "name": "Extra", "price_amount": 99, "stock": 1},
        headers=admin,
    )

    assert renamed.status_code == 200
    assert repriced.json()["price"]["amount"] == 1234
    assert added.status_code == 201
    detail = (await client.get(f"/products/{product.id}")).json()
    assert detail["name"] == "New name"
    assert [v["price"]["amount"] for v in detail["variants"]] == [1234, 99]


async def test_archiving_hides_a_product_and_restoring_brings_it_back(
    client: AsyncClient, db_session: AsyncSession, admin: dict[str, str]
) -> None:
    product = await make_product(db_session)

    archived = await client.post(f"/admin/products/{product.id}/archive", headers=admin)
    hidden = await client.get(f"/products/{product.id}")
    still_for_admin = await client.get(f"/admin/products/{product.id}", headers=admin)
    await client.post(f"/admin/products/{product.id}/restore", headers=admin)
    back = await client.get(f"/products/{product.id}")

    assert archived.json()["archived_at"] is not None
    assert hidden.status_code == 404
    assert still_for_admin.status_code == 200
    assert back.status_code == 200


async def test_stock_is_adjusted_relatively_and_never_below_zero(
    client: AsyncClient, db_session: AsyncSession, admin: dict[str, str]
) -> None:
    product = await make_product(db_session, prices_and_stock=[(100, 3)])
    [variant] = await variants_of(db_session, product)
    path = f"/admin/variants/{variant.id}/stock-adjustments"

    added = await client.post(path, json={"delta": 5}, headers=admin)
    too_many = await client.post(path, json={"delta": -9}, headers=admin)
    zero = await client.post(path, json={"delta": 0}, headers=admin)
    unknown = await client.post(
        "/admin/variants/999999/stock-adjustments", json={"delta": 1}, headers=admin
    )

    assert added.json()["stock"] == 8
    assert too_many.status_code == 409
    assert zero.status_code == 422
    assert unknown.status_code == 404


async def test_stock_additions_stop_at_the_stock_limit_instead_of_overflowing(
    client: AsyncClient, db_session: AsyncSession, admin: dict[str, str]
) -> None:
    product = await make_product(db_session, prices_and_stock=[(100, MAX_STOCK - 1)])
    [variant] = await variants_of(db_session, product)
    path = f"/admin/variants/{variant.id}/stock-adjustments"

    to_the_limit = await client.post(path, json={"delta": 1}, headers=admin)
    past_it = await client.post(path, json={"delta": MAX_STOCK}, headers=admin)

    assert to_the_limit.json()["stock"] == MAX_STOCK
    assert past_it.status_code == 409
    assert past_it.json()["detail"] == f"The adjustment would take the stock above {MAX_STOCK}"


async def test_unknown_products_and_variants_are_404_for_admins(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    for method, path, body in [
        ("GET", "/admin/products/999999", None),
        ("PATCH", "/admin/products/999999", {"name": "X"}),
        ("POST", "/admin/products/999999/archive", None),
        ("POST", "/admin/products/999999/variants", {"sku": "Q", "name": "Q", "price_amount": 1}),
        ("PATCH", "/admin/variants/999999", {"name": "X"}),
        ("PATCH", "/admin/categories/999999", {"name": "X"}),
    ]:
        response = await client.request(method, path, json=body, headers=admin)
        assert response.status_code == 404, path


async def test_an_admin_builds_and_reshapes_the_category_tree(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    root = (
        await client.post("/admin/categories", json={"name": "Home", "slug": "home"}, headers=admin)
    ).json()
    child = (
        await client.post(
            "/admin/categories",
            json={"name": "Kitchen", "slug": "kitchen", "parent_id": root["id"]},
            headers=admin,
        )
    ).json()

    moved_to_root = await client.patch(
        f"/admin/categories/{child['id']}", json={"parent_id": None}, headers=admin
    )
    renamed = await client.patch(
        f"/admin/categories/{root['id']}", json={"name": "House"}, headers=admin
    )

    assert moved_to_root.json()["parent_id"] is None
    assert renamed.json()["name"] == "House"
    assert [node["name"] for node in (await client.get("/categories")).json()] == [
        "House",
        "Kitchen",
    ]


async def test_a_category_cannot_move_under_its_own_descendant(
    client: AsyncClient, db_session: AsyncSession, admin: dict[str, str]
) -> None:
    top = await make_category(db_session)
    middle = await make_category(db_session, parent=top)
    bottom = await make_category(db_session, parent=middle)

    loop = await client.patch(
        f"/admin/categories/{top.id}", json={"parent_id": bottom.id}, headers=admin
    )
    itself = await client.patch(
        f"/admin/categories/{top.id}", json={"parent_id": top.id}, headers=admin
    )

    assert loop.status_code == itself.status_code == 409


async def test_category_slugs_are_unique_and_parents_must_exist(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    await client.post("/admin/categories", json={"name": "A", "slug": "a"}, headers=admin)

    duplicate = await client.post(
        "/admin/categories", json={"name": "B", "slug": "a"}, headers=admin
    )
    orphan = await client.post(
        "/admin/categories", json={"name": "C", "slug": "c", "parent_id": 999_999}, headers=admin
    )
    bad_slug = await client.post(
        "/admin/categories", json={"name": "D", "slug": "Not A Slug"}, headers=admin
    )

    assert duplicate.status_code == 409
    assert orphan.status_code == 422
    assert bad_slug.status_code == 422

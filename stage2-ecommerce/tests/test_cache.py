"""Cache-aside for the catalogue: fast reads, and never a stale page after a write."""

import asyncio

from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.cache import Cache
from shop.catalog.cache import CatalogCache
from shop.config import Settings
from shop.models import Product
from tests.factories import (
    CHECKOUT,
    auth,
    image_bytes,
    make_category,
    make_product,
    make_user,
    put_in_cart,
    upload,
    variants_of,
)


async def rename_behind_the_apps_back(session: AsyncSession, product: Product, name: str) -> None:
    await session.execute(update(Product).where(Product.id == product.id).values(name=name))
    await session.commit()


async def test_a_product_page_comes_from_the_cache_until_an_admin_changes_it(
    client: AsyncClient, db_session: AsyncSession, admin: dict[str, str]
) -> None:
    product = await make_product(db_session, name="Original")
    await client.get(f"/products/{product.id}")  # now cached
    await rename_behind_the_apps_back(db_session, product, "Changed in the database only")

    cached = await client.get(f"/products/{product.id}")
    await client.patch(f"/admin/products/{product.id}", json={"name": "Renamed"}, headers=admin)
    after_update = await client.get(f"/products/{product.id}")

    assert cached.json()["name"] == "Original"  # served from Redis, not the database
    assert after_update.json()["name"] == "Renamed"  # the update made the cached copy stale


async def test_every_admin_write_to_a_product_invalidates_its_page_and_the_lists(
    client: AsyncClient, db_session: AsyncSession, admin: dict[str, str]
) -> None:
    product = await make_product(db_session, prices_and_stock=[(1000, 5)])
    [variant] = await variants_of(db_session, product)
    # Each write, then what the page and the list must show right after it (not merely
    # the same as each other: a stale page and a stale list agree too).
    writes = [
        ("PATCH", f"/admin/variants/{variant.id}", {"price_amount": 1100}, [True], 1100),
        ("POST", f"/admin/variants/{variant.id}/stock-adjustments", {"delta": -5}, [False], None),
        (
            "POST",
            f"/admin/products/{product.id}/variants",
            {"sku": "NEW-1", "name": "New", "price_amount": 900, "stock": 1},
            [False, True],
            900,
        ),
    ]
    for method, path, body, in_stock, cheapest in writes:
        await client.get(f"/products/{product.id}")
        await client.get("/products")
        assert (await client.request(method, path, json=body, headers=admin)).is_success
        detail = (await client.get(f"/products/{product.id}")).json()
        [listed] = (await client.get("/products")).json()["items"]
        if cheapest is not None:
            assert listed["price_from"]["amount"] == cheapest
        assert [v["in_stock"] for v in detail["variants"]] == in_stock, path
        assert [v["in_stock"] for v in listed["variants"]] == in_stock, path


async def test_archiving_removes_a_product_from_cached_lists_at_once(
    client: AsyncClient, db_session: AsyncSession, admin: dict[str, str]
) -> None:
    product = await make_product(db_session)
    assert (await client.get("/products")).json()["total"] == 1

    await client.post(f"/admin/products/{product.id}/archive", headers=admin)

    assert (await client.get("/products")).json()["total"] == 0
    assert (await client.get(f"/products/{product.id}")).status_code == 404


async def test_a_new_category_appears_in_the_cached_tree_at_once(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    assert (await client.get("/categories")).json() == []

    await client.post("/admin/categories", json={"name": "Garden", "slug": "garden"}, headers=admin)

    assert [node["slug"] for node in (await client.get("/categories")).json()] == ["garden"]


async def test_selling_the_last_unit_and_cancelling_update_the_cached_page(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    buyer = await make_user(db_session)
    product = await make_product(db_session, prices_and_stock=[(500, 1)])
    [variant] = await variants_of(db_session, product)
    await put_in_cart(db_session, buyer, variant)
    assert (await client.get(f"/products/{product.id}")).json()["variants"][0]["in_stock"]

    order = await client.post("/orders", json=CHECKOUT, headers=auth(settings, buyer))
    sold_out = await client.get(f"/products/{product.id}")
    await client.post(f"/orders/{order.json()['id']}/cancel", headers=auth(settings, buyer))
    back = await client.get(f"/products/{product.id}")

    assert sold_out.json()["variants"][0]["in_stock"] is False
    assert back.json()["variants"][0]["in_stock"] is True


async def test_a_stock_adjustment_to_zero_shows_out_of_stock_at_once(
    client: AsyncClient, db_session: AsyncSession, admin: dict[str, str]
) -> None:
    product = await make_product(db_session, prices_and_stock=[(1000, 5)])
    [variant] = await variants_of(db_session, product)
    adjust = f"/admin/variants/{variant.id}/stock-adjustments"

    async def in_stock() -> tuple[bool, bool]:
        detail = (await client.get(f"/products/{product.id}")).json()
        [listed] = (await client.get("/products")).json()["items"]
        return detail["variants"][0]["in_stock"], listed["variants"][0]["in_stock"]

    before = await in_stock()  # now cached
    assert (await client.post(adjust, json={"delta": -5}, headers=admin)).is_success
    emptied = await in_stock()
    assert (await client.post(adjust, json={"delta": 2}, headers=admin)).is_success
    refilled = await in_stock()

    assert (before, emptied, refilled) == ((True, True), (False, False), (True, True))


async def test_a_new_product_appears_in_cached_lists_at_once(
    client: AsyncClient, db_session: AsyncSession, admin: dict[str, str]
) -> None:
    category = await make_category(db_session)
    assert (await client.get("/products")).json()["total"] == 0  # now cached
    body = {
        "category_id": category.id,
        "name": "Desk lamp",
        "variants": [{"sku": "LAMP-1", "name": "White", "price_amount": 4999, "stock": 5}],
    }

    assert (await client.post("/admin/products", json=body, headers=admin)).status_code == 201

    assert [p["name"] for p in (await client.get("/products")).json()["items"]] == ["Desk lamp"]


async def test_moving_a_category_updates_the_cached_tree_and_lists_at_once(
    client: AsyncClient, db_session: AsyncSession, admin: dict[str, str]
) -> None:
    home = await make_category(db_session, name="Home")
    garden = await make_category(db_session, name="Garden")
    await make_product(db_session, category=garden, name="Rake")
    roots_before = [node["slug"] for node in (await client.get("/categories")).json()]
    under_home_before = (await client.get("/products", params={"category": home.slug})).json()

    moved = await client.patch(
        f"/admin/categories/{garden.id}",
        json={"name": "Garden tools", "parent_id": home.id},
        headers=admin,
    )

    assert moved.status_code == 200
    [root] = (await client.get("/categories")).json()
    assert (root["slug"], [child["name"] for child in root["children"]]) == (
        home.slug,
        ["Garden tools"],
    )
    under_home = (await client.get("/products", params={"category": home.slug})).json()
    assert sorted(roots_before) == sorted([home.slug, garden.slug])
    assert (under_home_before["total"], under_home["total"]) == (0, 1)


async def test_an_added_and_a_deleted_image_show_on_cached_pages_at_once(
    client: AsyncClient, db_session: AsyncSession, admin: dict[str, str]
) -> None:
    product = await make_product(db_session)

    async def image_urls() -> tuple[list[str], list[str]]:
        detail = (await client.get(f"/products/{product.id}")).json()
        [listed] = (await client.get("/products")).json()["items"]
        return [i["url"] for i in detail["images"]], [i["url"] for i in listed["images"]]

    before = await image_urls()  # now cached
    image = (await upload(client, product.id, image_bytes(), admin)).json()
    with_image = await image_urls()
    deleted = await client.delete(f"/admin/product-images/{image['id']}", headers=admin)
    after_delete = await image_urls()

    assert deleted.status_code == 204
    assert (before, with_image, after_delete) == (
        ([], []),
        ([image["url"]], [image["url"]]),
        ([], []),
    )


async def test_a_read_that_raced_an_update_cannot_put_the_old_value_back(
    redis_client: Redis,
) -> None:
    """The classic cache-aside race: a reader misses, loads the old row, and is slow to
    store it; meanwhile a writer commits and invalidates. The reader's late write must
    not become what everyone reads."""
    cache = CatalogCache(Cache(redis_client, namespace="race"), ttl_seconds=60)
    loaded, stored_late = asyncio.Event(), asyncio.Event()

    async def slow_reader_of_the_old_row() -> bytes:
        loaded.set()
        await stored_late.wait()
        return b"old"

    reader = asyncio.create_task(cache.product_detail(1, slow_reader_of_the_old_row))
    await loaded.wait()
    await cache.products_changed([1])  # the writer commits, then invalidates
    stored_late.set()
    assert await reader == b"old"  # that reader saw the old row; fine, it started first

    async def load_the_new_row() -> bytes:
        return b"new"

    assert await cache.product_detail(1, load_the_new_row) == b"new"

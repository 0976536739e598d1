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
from tests.factories import CHECKOUT, auth, make_product, make_user, put_in_cart, variants_of


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
    writes = [
        ("PATCH", f"/admin/variants/{variant.id}", {"price_amount": 1100}, 1100),
        ("POST", f"/admin/variants/{variant.id}/stock-adjustments", {"delta": -5}, None),
        (
            "POST",
            f"/admin/products/{product.id}/variants",
            {"sku": "NEW-1", "name": "New", "price_amount": 900, "stock": 1},
            900,
        ),
    ]
    for method, path, body, cheapest in writes:
        await client.get(f"/products/{product.id}")
        await client.get("/products")
        assert (await client.request(method, path, json=body, headers=admin)).is_success
        detail = (await client.get(f"/products/{product.id}")).json()
        [listed] = (await client.get("/products")).json()["items"]
        if cheapest is not None:
            assert listed["price_from"]["amount"] == cheapest
        assert [v["in_stock"] for v in detail["variants"]] == [
            v["in_stock"] for v in listed["variants"]
        ]
    assert [v["in_stock"] for v in detail["variants"]] == [False, True]


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

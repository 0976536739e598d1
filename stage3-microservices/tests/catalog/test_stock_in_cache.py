"""Reservations change what the cached catalogue says: a product whose last units are
reserved shows as sold out at once, and in stock again once they come back."""

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.catalog.factories import make_product, variants_of
from tests.catalog.test_reservations import lapsed_reservation, lines


async def shown_in_stock(client: AsyncClient, product_id: int) -> tuple[bool, bool]:
    """Whether the product's page, and the product list, say it is in stock (cached)."""
    page = await client.get(f"/products/{product_id}")
    listed = await client.get("/products")
    [summary] = [product for product in listed.json()["items"] if product["id"] == product_id]
    on_page = any(variant["in_stock"] for variant in page.json()["variants"])
    return on_page, summary["in_stock"]


async def test_reserving_the_last_units_shows_the_product_sold_out_at_once(
    committing_client: AsyncClient, committed_session: AsyncSession, orders_service: dict[str, str]
) -> None:
    product = await make_product(committed_session, prices_and_stock=[(1000, 2)])
    (variant,) = await variants_of(committed_session, product)
    assert await shown_in_stock(committing_client, product.id) == (True, True)  # now cached

    reserved = await committing_client.put(
        "/reservations/order-1", json=lines((variant.id, 2)), headers=orders_service
    )
    assert reserved.status_code == 201
    assert await shown_in_stock(committing_client, product.id) == (False, False)

    confirmed = await committing_client.post(
        "/reservations/order-1/confirm", headers=orders_service
    )
    assert confirmed.status_code == 200
    assert await shown_in_stock(committing_client, product.id) == (False, False)


async def test_a_released_reservation_shows_the_product_in_stock_again(
    committing_client: AsyncClient, committed_session: AsyncSession, orders_service: dict[str, str]
) -> None:
    product = await make_product(committed_session, prices_and_stock=[(1000, 2)])
    (variant,) = await variants_of(committed_session, product)
    await committing_client.put(
        "/reservations/order-1", json=lines((variant.id, 2)), headers=orders_service
    )
    assert await shown_in_stock(committing_client, product.id) == (False, False)  # cached

    released = await committing_client.post("/reservations/order-1/release", headers=orders_service)
    assert released.status_code == 200
    assert await shown_in_stock(committing_client, product.id) == (True, True)


async def test_a_lapsed_reservation_swept_by_the_next_one_shows_its_product_in_stock_again(
    committing_client: AsyncClient, committed_session: AsyncSession, orders_service: dict[str, str]
) -> None:
    sold_out = await make_product(committed_session, prices_and_stock=[(1000, 2)])
    (variant,) = await variants_of(committed_session, sold_out)
    other = await make_product(committed_session)
    (other_variant,) = await variants_of(committed_session, other)
    await lapsed_reservation(committed_session, "order-1", variant.id, 2)
    assert await shown_in_stock(committing_client, sold_out.id) == (False, False)  # cached

    await committing_client.put(
        "/reservations/order-2", json=lines((other_variant.id, 1)), headers=orders_service
    )
    assert await shown_in_stock(committing_client, sold_out.id) == (True, True)

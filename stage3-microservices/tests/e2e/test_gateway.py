"""End to end, through the gateway: a customer's checkout, fifty checkouts racing for ten
units, and a checkout while the catalog is down."""

import asyncio

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Reservation, ReservationStatus
from tests.e2e.conftest import BREAKER_COOLDOWN_SECONDS, Shop
from tests.e2e.factories import CHECKOUT, make_variant, signed_up, stock_of


async def test_a_customer_browses_fills_a_cart_and_checks_out(
    shop: Shop, catalog_db: AsyncSession
) -> None:
    variant = await make_variant(catalog_db, stock=5)
    async with httpx.AsyncClient(base_url=shop.gateway, timeout=30) as http:
        products = await http.get("/products")
        assert products.status_code == 200
        product = products.json()["items"][0]
        page = await http.get(f"/products/{product['id']}")
        assert page.json()["variants"][0]["id"] == variant
        customer = await signed_up(http)
        added = await http.post(
            "/cart/items", json={"variant_id": variant, "quantity": 2}, headers=customer
        )
        assert added.status_code == 200
        answer = await http.post(
            "/orders", json=CHECKOUT, headers={**customer, "X-Request-ID": "e2e-checkout-1"}
        )
        assert answer.status_code == 201, answer.text
        assert answer.headers["x-request-id"] == "e2e-checkout-1"  # passed through the gateway
        assert answer.json()["status"] == "placed"
        assert answer.json()["subtotal"]["amount"] == 3000
        assert (await http.get("/cart", headers=customer)).json() == {"items": []}
        # Reservations are the orders service's business, not routed to the public.
        assert (await http.get("/reservations/order-1")).status_code == 404
    assert await stock_of(catalog_db, variant) == 3


async def test_fifty_checkouts_on_ten_units_place_exactly_ten_orders(
    shop: Shop, catalog_db: AsyncSession
) -> None:
    variant = await make_variant(catalog_db, stock=10)
    # Signing up goes to an orders instance directly: setup, not what is measured here.
    direct = f"http://{shop.orders[0].address}"
    async with httpx.AsyncClient(base_url=direct, timeout=60) as setup:
        customers = [await signed_up(setup) for _ in range(50)]
        for customer in customers:
            await setup.post("/cart/items", json={"variant_id": variant}, headers=customer)
    async with httpx.AsyncClient(base_url=shop.gateway, timeout=60) as http:
        answers = await asyncio.gather(
            *(http.post("/orders", json=CHECKOUT, headers=customer) for customer in customers)
        )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * 10 + [409] * 40, statuses
    assert await stock_of(catalog_db, variant) == 0
    confirmed = await catalog_db.scalar(
        select(func.count()).where(Reservation.status == ReservationStatus.CONFIRMED)
    )
    held = await catalog_db.scalar(
        select(func.count()).where(Reservation.status == ReservationStatus.HELD)
    )
    assert (confirmed, held) == (10, 0)  # nothing left dangling


async def test_with_the_catalog_down_checkout_is_503_and_recovers_when_it_returns(
    shop: Shop, catalog_db: AsyncSession
) -> None:
    variant = await make_variant(catalog_db, stock=3)
    async with httpx.AsyncClient(base_url=shop.gateway, timeout=30) as http:
        customer = await signed_up(http)
        await http.post("/cart/items", json={"variant_id": variant}, headers=customer)
        shop.catalog.stop()
        try:
            down = await http.post("/orders", json=CHECKOUT, headers=customer)
            assert down.status_code == 503
            assert down.headers["content-type"] == "application/problem+json"
            assert int(down.headers["retry-after"]) >= 1
            # The cart is untouched, and orders still answers what it owns.
            assert (await http.get("/cart", headers=customer)).json()["items"] != []
        finally:
            shop.catalog.start()
        assert await stock_of(catalog_db, variant) == 3  # nothing reserved
        # Each instance's breaker lets a probe through after its cool-down.
        for _ in range(20):
            answer = await http.post("/orders", json=CHECKOUT, headers=customer)
            if answer.status_code != 503:
                break
            await asyncio.sleep(BREAKER_COOLDOWN_SECONDS / 2)
        assert answer.status_code == 201, answer.text
    assert await stock_of(catalog_db, variant) == 2

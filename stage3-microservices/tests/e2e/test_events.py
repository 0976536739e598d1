"""End to end, through the gateway, with the relays and notifications running: what a
checkout sends, and what happens to it while notifications is down."""

import asyncio

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from catalog.models import Variant
from orders.models import OutboxEvent
from roadmap_shared.testing.messaging import eventually
from tests.e2e.conftest import ADMIN_EMAIL, RELAY_INTERVAL_SECONDS, Shop
from tests.e2e.factories import CHECKOUT, Customer, customer, make_variant

# Long enough for a duplicate to arrive if one were coming: several relay passes and a
# redelivery, so "exactly one" is checked after the system had its chance to send two.
SETTLE_SECONDS = RELAY_INTERVAL_SECONDS * 10


async def checked_out(http: httpx.AsyncClient, variant: int, quantity: int = 1) -> Customer:
    buyer = await customer(http)
    added = await http.post(
        "/cart/items", json={"variant_id": variant, "quantity": quantity}, headers=buyer.headers
    )
    assert added.status_code == 200, added.text
    placed = await http.post("/orders", json=CHECKOUT, headers=buyer.headers)
    assert placed.status_code == 201, placed.text
    return buyer


async def unpublished(shop: Shop) -> int:
    engine = create_async_engine(shop.orders_database_url)
    try:
        async with AsyncSession(engine) as session:
            query = select(func.count()).where(OutboxEvent.published_at.is_(None))
            return await session.scalar(query) or 0
    finally:
        await engine.dispose()


async def test_a_checkout_sends_one_confirmation_and_the_last_units_one_alert(
    shop: Shop, catalog_db: AsyncSession
) -> None:
    variant = await make_variant(catalog_db, stock=7, price=1500)
    async with httpx.AsyncClient(base_url=shop.gateway, timeout=30) as http:
        buyer = await checked_out(http, variant, quantity=2)  # 5 left: the threshold
        other = await checked_out(http, variant)  # 4 left: still low, no new alert

    sku = await catalog_db.scalar(select(Variant.sku).where(Variant.id == variant))

    def alerts() -> list[str]:
        subjects = [str(mail["Subject"]) for mail in shop.emails_to(ADMIN_EMAIL)]
        return [subject for subject in subjects if subject.startswith(f"Low stock: {sku} ")]

    async def delivered() -> bool:
        return bool(shop.emails_to(buyer.email) and shop.emails_to(other.email) and alerts())

    await eventually(delivered, what="the confirmations and the alert")
    await asyncio.sleep(SETTLE_SECONDS)
    (email,) = shop.emails_to(buyer.email)
    assert email["Subject"].endswith("is confirmed")
    body = email.get_content()
    assert "2 x Oxford shirt (M)" in body
    assert "36.00 EUR" in body  # 2 x 15.00 and 20 % tax
    assert len(shop.emails_to(other.email)) == 1
    assert alerts() == [f"Low stock: {sku} (5 left)"]


async def test_emails_of_checkouts_while_notifications_is_down_arrive_once_each_when_it_returns(
    shop: Shop, catalog_db: AsyncSession
) -> None:
    variant = await make_variant(catalog_db, stock=50)
    shop.notifications.stop()
    try:
        async with httpx.AsyncClient(base_url=shop.gateway, timeout=30) as http:
            buyers = [await checked_out(http, variant) for _ in range(4)]

        async def all_published() -> bool:
            return await unpublished(shop) == 0

        # The relays published every event to notifications' queue, which keeps them.
        await eventually(all_published, what="the outbox relayed")
        await asyncio.sleep(SETTLE_SECONDS)
        assert [shop.emails_to(buyer.email) for buyer in buyers] == [[]] * len(buyers)
    finally:
        shop.notifications.start()

    async def all_sent() -> bool:
        return all(shop.emails_to(buyer.email) for buyer in buyers)

    await eventually(all_sent, what="the emails after notifications returned")
    await asyncio.sleep(SETTLE_SECONDS)
    assert [len(shop.emails_to(buyer.email)) for buyer in buyers] == [1] * len(buyers)

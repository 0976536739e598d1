"""`stock.low`: announced in the transaction of the sale that leaves a variant at or under
the threshold (5 by default), once per fall, again only after a restock."""

from typing import Any

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import OutboxEvent
from notifications.emails import StockLow
from tests.catalog.factories import make_product, variants_of


async def sell(
    client: AsyncClient, headers: dict[str, str], key: str, variant: int, n: int
) -> None:
    lines = {"lines": [{"variant_id": variant, "quantity": n}]}
    reserved = await client.put(f"/reservations/{key}", json=lines, headers=headers)
    assert reserved.status_code == 201, reserved.text
    confirmed = await client.post(f"/reservations/{key}/confirm", headers=headers)
    assert confirmed.status_code == 200, confirmed.text


async def announced(session: AsyncSession, variant_id: int) -> list[dict[str, Any]]:
    session.expire_all()
    query = (
        select(OutboxEvent).where(OutboxEvent.event_type == "stock.low").order_by(OutboxEvent.id)
    )
    events = (await session.scalars(query)).all()
    return [event.payload for event in events if event.payload["variant_id"] == variant_id]


async def test_a_sale_down_to_the_threshold_announces_it_once_until_a_restock(
    client: AsyncClient,
    db_session: AsyncSession,
    orders_service: dict[str, str],
    admin: dict[str, str],
) -> None:
    product = await make_product(db_session, prices_and_stock=[(1000, 8)])
    (variant,) = await variants_of(db_session, product)

    await sell(client, orders_service, "low-1", variant.id, 2)  # 6 left: above
    assert await announced(db_session, variant.id) == []
    await sell(client, orders_service, "low-2", variant.id, 1)  # 5 left: at the threshold
    (alert,) = await announced(db_session, variant.id)
    # The contract of its consumer (notifications' admin alert).
    low = StockLow.model_validate(alert)
    assert (low.variant_id, low.sku, low.stock_left) == (variant.id, variant.sku, 5)
    assert low.product_name == f"{product.name} ({variant.name})"

    await sell(client, orders_service, "low-3", variant.id, 1)  # 4 left: still low, no news
    await sell(client, orders_service, "low-4", variant.id, 4)  # 0 left
    assert len(await announced(db_session, variant.id)) == 1

    restock = await client.post(
        f"/admin/variants/{variant.id}/stock-adjustments", json={"delta": 10}, headers=admin
    )
    assert restock.status_code == 200, restock.text
    await sell(client, orders_service, "low-5", variant.id, 7)  # 3 left: a new fall
    assert [alert["stock_left"] for alert in await announced(db_session, variant.id)] == [5, 3]


async def test_stock_held_but_not_confirmed_announces_nothing(
    client: AsyncClient, db_session: AsyncSession, orders_service: dict[str, str]
) -> None:
    product = await make_product(db_session, prices_and_stock=[(1000, 6)])
    (variant,) = await variants_of(db_session, product)
    lines = {"lines": [{"variant_id": variant.id, "quantity": 6}]}
    held = await client.put("/reservations/held-1", json=lines, headers=orders_service)
    assert held.status_code == 201
    released = await client.post("/reservations/held-1/release", headers=orders_service)
    assert released.status_code == 200
    assert await announced(db_session, variant.id) == []


async def test_a_reservation_names_what_was_reserved(
    client: AsyncClient, db_session: AsyncSession, orders_service: dict[str, str]
) -> None:
    product = await make_product(db_session, prices_and_stock=[(1000, 6)])
    (variant,) = await variants_of(db_session, product)
    lines = {"lines": [{"variant_id": variant.id, "quantity": 1}]}
    answer = await client.put("/reservations/named-1", json=lines, headers=orders_service)
    assert answer.json()["lines"][0]["product_name"] == f"{product.name} ({variant.name})"

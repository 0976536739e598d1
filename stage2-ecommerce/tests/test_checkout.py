"""Checkout: an order, its lines and the stock change happen together or not at all."""

from httpx import AsyncClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shop.config import Settings
from shop.models import CartItem, Order, OutboxMessage, Role, Variant
from tests.factories import (
    ADDRESS,
    CHECKOUT,
    auth,
    make_product,
    make_user,
    put_in_cart,
    variants_of,
)


async def stock_of(session: AsyncSession, variant: Variant) -> int | None:
    return await session.scalar(select(Variant.stock).where(Variant.id == variant.id))


async def test_checkout_turns_the_cart_into_a_pending_order(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)
    product = await make_product(db_session, name="Pen", prices_and_stock=[(250, 10), (1999, 3)])
    pen, fountain_pen = await variants_of(db_session, product)
    await put_in_cart(db_session, user, pen, 4)
    await put_in_cart(db_session, user, fountain_pen, 1)

    response = await client.post("/orders", json=CHECKOUT, headers=auth(settings, user))

    assert response.status_code == 201
    order = response.json()
    assert response.headers["location"] == f"/orders/{order['id']}"
    assert order["status"] == "pending"
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [
        (pen.sku, 4),
        (fountain_pen.sku, 1),
    ]
    # 4 x 2.50 + 19.99 = 29.99; 20 % tax = 5.998, rounded to 6.00.
    assert order["subtotal"] == {"amount": 2999, "currency": "EUR"}
    assert order["tax"] == {"amount": 600, "currency": "EUR"}
    assert order["total"] == {"amount": 3599, "currency": "EUR"}
    assert order["shipping_address"] == {**ADDRESS, "line2": ""}
    assert await stock_of(db_session, pen) == 6
    assert await stock_of(db_session, fountain_pen) == 2
    assert (await client.get("/cart", headers=auth(settings, user))).json()["items"] == []


async def test_checkout_charges_todays_price_not_the_price_when_added(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)
    [variant] = await variants_of(db_session, await make_product(db_session))
    await put_in_cart(db_session, user, variant)
    await db_session.execute(
        update(Variant).where(Variant.id == variant.id).values(price_amount=777)
    )
    await db_session.commit()

    response = await client.post("/orders", json=CHECKOUT, headers=auth(settings, user))

    assert response.json()["lines"][0]["unit_price"]["amount"] == 777


async def test_an_empty_cart_cannot_be_checked_out(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)

    response = await client.post("/orders", json=CHECKOUT, headers=auth(settings, user))

    assert response.status_code == 409
    assert response.json()["detail"] == "Your cart is empty"


async def test_when_one_line_is_short_nothing_is_taken_or_ordered(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)
    plenty, scarce = await variants_of(
        db_session, await make_product(db_session, prices_and_stock=[(100, 50), (100, 1)])
    )
    await put_in_cart(db_session, user, plenty, 5)
    await put_in_cart(db_session, user, scarce, 2)

    response = await client.post("/orders", json=CHECKOUT, headers=auth(settings, user))

    assert response.status_code == 409
    problem = response.json()
    assert problem["sku"] == scarce.sku
    assert (problem["requested"], problem["available"]) == (2, 1)
    # The first line's stock was taken, then given back by the rollback.
    assert await stock_of(db_session, plenty) == 50
    assert await db_session.scalar(select(func.count()).select_from(Order)) == 0
    assert await db_session.scalar(select(func.count()).select_from(CartItem)) == 2


async def test_an_archived_product_cannot_be_checked_out(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)
    product = await make_product(db_session)
    [variant] = await variants_of(db_session, product)
    await put_in_cart(db_session, user, variant)
    admin_headers = auth(settings, await make_user(db_session, role=Role.ADMIN))
    await client.post(f"/admin/products/{product.id}/archive", headers=admin_headers)

    response = await client.post("/orders", json=CHECKOUT, headers=auth(settings, user))

    assert response.status_code == 409
    assert "no longer sold" in response.json()["detail"]


async def test_an_item_priced_in_another_currency_cannot_be_checked_out(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)
    [dollars] = await variants_of(db_session, await make_product(db_session, currency="USD"))
    await put_in_cart(db_session, user, dollars)

    response = await client.post("/orders", json=CHECKOUT, headers=auth(settings, user))

    assert response.status_code == 409
    assert "another currency" in response.json()["detail"]
    assert await stock_of(db_session, dollars) == 10  # taken, then given back
    assert await db_session.scalar(select(func.count()).select_from(Order)) == 0


async def test_the_confirmation_email_is_queued_in_the_same_transaction(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)
    [variant] = await variants_of(db_session, await make_product(db_session))
    await put_in_cart(db_session, user, variant)

    order = (await client.post("/orders", json=CHECKOUT, headers=auth(settings, user))).json()

    messages = (await db_session.scalars(select(OutboxMessage))).all()
    assert [(m.task, m.payload) for m in messages] == [
        ("send_order_confirmation", {"order_id": order["id"]})
    ]


async def test_a_failed_checkout_queues_no_email(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)
    [variant] = await variants_of(
        db_session, await make_product(db_session, prices_and_stock=[(100, 1)])
    )
    await put_in_cart(db_session, user, variant, 2)

    await client.post("/orders", json=CHECKOUT, headers=auth(settings, user))

    assert await db_session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


async def test_crossing_the_low_stock_threshold_queues_one_alert(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    # The suite's threshold is 3: going from 5 to 3 crosses it, 3 to 2 does not again.
    [variant] = await variants_of(
        db_session, await make_product(db_session, prices_and_stock=[(100, 5)])
    )
    for quantity in (2, 1):
        user = await make_user(db_session)
        await put_in_cart(db_session, user, variant, quantity)
        assert (
            await client.post("/orders", json=CHECKOUT, headers=auth(settings, user))
        ).status_code == 201

    alerts = (
        await db_session.scalars(
            select(OutboxMessage).where(OutboxMessage.task == "send_low_stock_alert")
        )
    ).all()
    assert [alert.payload for alert in alerts] == [{"variant_id": variant.id, "stock_left": 3}]


async def test_a_checkout_needs_a_valid_address_and_a_user(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db_session)

    anonymous = await client.post("/orders", json=CHECKOUT)
    no_address = await client.post("/orders", json={}, headers=auth(settings, user))
    bad_country = await client.post(
        "/orders",
        json={"shipping_address": {**ADDRESS, "country": "England"}},
        headers=auth(settings, user),
    )

    assert anonymous.status_code == 401
    assert no_address.status_code == bad_country.status_code == 422

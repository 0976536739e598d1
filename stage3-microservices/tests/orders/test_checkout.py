"""Checkout: a saga across the boundary, against a real catalog service."""

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Product, Reservation, ReservationStatus, Variant
from notifications.emails import OrderPlaced
from orders.config import Settings
from orders.main import create_app
from orders.models import CartItem, Order, OrderLine, OrderStatus, OutboxEvent, User
from tests.orders.factories import CHECKOUT, auth, make_user, make_variant, put_in_cart, stock_of


async def reservation_status(
    catalog_session: AsyncSession, order_id: int
) -> ReservationStatus | None:
    catalog_session.expire_all()
    query = select(Reservation.status).where(Reservation.key == f"order-{order_id}")
    return await catalog_session.scalar(query)


async def product_name_of(catalog_session: AsyncSession, variant_id: int) -> str:
    query = select(Product.name, Variant.name).join(Variant).where(Variant.id == variant_id)
    product, variant = (await catalog_session.execute(query)).one()
    return f"{product} ({variant})"


async def cart_of(session: AsyncSession, user: User) -> list[tuple[int, int]]:
    rows = await session.execute(
        select(CartItem.variant_id, CartItem.quantity).where(CartItem.user_id == user.id)
    )
    return sorted((v, q) for v, q in rows.all())


async def test_a_checkout_reserves_confirms_and_places_the_order_with_its_event(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    buyer_auth: dict[str, str],
) -> None:
    customer = (buyer.email, buyer.name)
    shirt = await make_variant(catalog_session, price=1999, stock=5)
    mug = await make_variant(catalog_session, price=500, stock=2)
    await committing_client.post(
        "/cart/items", json={"variant_id": shirt, "quantity": 2}, headers=buyer_auth
    )
    await committing_client.post(
        "/cart/items", json={"variant_id": mug, "quantity": 1}, headers=buyer_auth
    )

    answer = await committing_client.post("/orders", json=CHECKOUT, headers=buyer_auth)

    assert answer.status_code == 201, answer.text
    order = answer.json()
    assert answer.headers["location"] == f"/orders/{order['id']}"
    assert order["status"] == "placed"
    assert [
        (line["variant_id"], line["quantity"], line["unit_price"]["amount"])
        for line in order["lines"]
    ] == [
        (shirt, 2, 1999),
        (mug, 1, 500),
    ]
    assert order["subtotal"]["amount"] == 4498
    assert order["tax"]["amount"] == 900  # 20 % of 44.98, rounded
    assert order["total"]["amount"] == 5398
    assert (await stock_of(catalog_session, shirt), await stock_of(catalog_session, mug)) == (3, 1)
    assert await reservation_status(catalog_session, order["id"]) is ReservationStatus.CONFIRMED
    assert await cart_of(committed_session, buyer) == []
    (event,) = (await committed_session.scalars(select(OutboxEvent))).all()
    assert event.event_type == "order.placed"
    # The contract of its consumer: everything the confirmation email says.
    placed = OrderPlaced.model_validate(event.payload)
    assert (placed.order_id, placed.total_amount, placed.currency) == (order["id"], 5398, "EUR")
    assert (placed.customer_email, placed.customer_name) == customer
    assert [(line.product_name, line.quantity) for line in placed.lines] == [
        (await product_name_of(catalog_session, shirt), 2),
        (await product_name_of(catalog_session, mug), 1),
    ]


async def test_not_enough_stock_fails_the_order_releases_the_reservation_and_keeps_the_cart(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    buyer_auth: dict[str, str],
) -> None:
    plenty = await make_variant(catalog_session, stock=10)
    scarce = await make_variant(catalog_session, stock=1)
    await put_in_cart(committed_session, buyer, plenty, 3)
    await put_in_cart(committed_session, buyer, scarce, 2)

    answer = await committing_client.post("/orders", json=CHECKOUT, headers=buyer_auth)

    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert "Not enough stock" in answer.json()["detail"]
    order_id = answer.json()["order_id"]
    assert (await stock_of(catalog_session, plenty), await stock_of(catalog_session, scarce)) == (
        10,
        1,
    )
    # Released, so a late reservation under the order's key would be refused.
    assert await reservation_status(catalog_session, order_id) is ReservationStatus.RELEASED
    order = await committed_session.get(Order, order_id, populate_existing=True)
    assert order is not None
    assert order.status is OrderStatus.FAILED
    assert await cart_of(committed_session, buyer) == [(plenty, 3), (scarce, 2)]
    assert (await committed_session.scalars(select(OutboxEvent))).all() == []


async def test_a_variant_the_catalog_does_not_know_is_refused(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    buyer: User,
    buyer_auth: dict[str, str],
) -> None:
    await put_in_cart(committed_session, buyer, 2**62, 1)
    answer = await committing_client.post("/orders", json=CHECKOUT, headers=buyer_auth)
    assert answer.status_code == 409
    assert "does not exist" in answer.json()["detail"]


async def test_an_empty_cart_cannot_be_checked_out(
    committing_client: AsyncClient, buyer_auth: dict[str, str]
) -> None:
    answer = await committing_client.post("/orders", json=CHECKOUT, headers=buyer_auth)
    assert answer.status_code == 409
    assert answer.json()["detail"] == "Your cart is empty"


async def test_a_retried_checkout_with_the_same_key_places_one_order(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    buyer_auth: dict[str, str],
) -> None:
    variant = await make_variant(catalog_session, stock=5)
    await put_in_cart(committed_session, buyer, variant, 2)
    headers = {**buyer_auth, "Idempotency-Key": "checkout-1"}
    first = await committing_client.post("/orders", json=CHECKOUT, headers=headers)
    other = await make_variant(catalog_session, stock=5)
    await put_in_cart(committed_session, buyer, other, 1)  # the cart changes meanwhile
    again = await committing_client.post("/orders", json=CHECKOUT, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert await stock_of(catalog_session, variant) == 3
    assert await stock_of(catalog_session, other) == 5


async def test_a_checkout_interrupted_after_its_first_step_resumes_with_the_same_reservation(
    *,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    buyer_auth: dict[str, str],
    settings: Settings,
) -> None:
    """The process died after reserving: the retry finds the pending order, reserves
    under the same key (no second hold), confirms and places it."""
    variant = await make_variant(catalog_session, stock=5)
    pending = Order(
        user_id=buyer.id,
        idempotency_key="resumed",
        status=OrderStatus.PENDING,
        currency="EUR",
        tax_rate_basis_points=2000,
        shipping_address=CHECKOUT["shipping_address"],
    )
    committed_session.add(pending)
    await committed_session.flush()
    committed_session.add(OrderLine(order_id=pending.id, variant_id=variant, quantity=2))
    await committed_session.commit()
    crashed = create_app(settings).state.catalog  # the catalog client of the crashed process
    await crashed.reserve(f"order-{pending.id}", [(variant, 2)])

    answer = await committing_client.post(
        "/orders", json=CHECKOUT, headers={**buyer_auth, "Idempotency-Key": "resumed"}
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "placed"
    assert await stock_of(catalog_session, variant) == 3


async def test_a_retry_of_a_checkout_left_confirming_confirms_and_places_it(
    *,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    buyer_auth: dict[str, str],
    settings: Settings,
) -> None:
    """The answer to the confirmation was lost (the customer got 202): a retry with the
    same key confirms again (idempotent) and places the order, once."""
    variant = await make_variant(catalog_session, stock=5)
    confirming = Order(
        user_id=buyer.id,
        idempotency_key="lost-answer",
        status=OrderStatus.CONFIRMING,
        currency="EUR",
        tax_rate_basis_points=2000,
        shipping_address=CHECKOUT["shipping_address"],
    )
    committed_session.add(confirming)
    await committed_session.flush()
    committed_session.add(OrderLine(order_id=confirming.id, variant_id=variant, quantity=2))
    await committed_session.commit()
    first_attempt = create_app(settings).state.catalog
    await first_attempt.reserve(f"order-{confirming.id}", [(variant, 2)])
    await first_attempt.confirm(f"order-{confirming.id}")

    answer = await committing_client.post(
        "/orders", json=CHECKOUT, headers={**buyer_auth, "Idempotency-Key": "lost-answer"}
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "placed"
    assert await stock_of(catalog_session, variant) == 3
    events = await committed_session.scalars(select(OutboxEvent.payload))
    assert [event["order_id"] for event in events] == [confirming.id]


async def test_orders_are_private_to_their_customer(
    *,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    buyer_auth: dict[str, str],
    settings: Settings,
) -> None:
    variant = await make_variant(catalog_session)
    await put_in_cart(committed_session, buyer, variant)
    order = (await committing_client.post("/orders", json=CHECKOUT, headers=buyer_auth)).json()
    stranger = auth(settings, await make_user(committed_session))
    assert (
        await committing_client.get(f"/orders/{order['id']}", headers=buyer_auth)
    ).status_code == 200
    assert (
        await committing_client.get(f"/orders/{order['id']}", headers=stranger)
    ).status_code == 404
    assert (await committing_client.get("/orders", headers=stranger)).json()["items"] == []
    assert (await committing_client.get(f"/orders/{order['id']}")).status_code == 401
    assert (await committing_client.post("/orders", json=CHECKOUT)).status_code == 401


async def test_bad_checkout_input_is_a_422_problem(
    committing_client: AsyncClient, buyer_auth: dict[str, str]
) -> None:
    bodies: list[object] = [{}, {"shipping_address": {"name": "x"}}, []]
    for body in bodies:
        answer = await committing_client.post("/orders", json=body, headers=buyer_auth)
        assert answer.status_code == 422
        assert answer.headers["content-type"] == "application/problem+json"
    bad_key = {**buyer_auth, "Idempotency-Key": "x" * 256}
    assert (
        await committing_client.post("/orders", json=CHECKOUT, headers=bad_key)
    ).status_code == 422

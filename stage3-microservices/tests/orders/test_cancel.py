"""Cancelling an order: the saga's compensation after the point of no return, against a
real catalog service. The stock comes back once, the order is cancelled once, with one
`order.cancelled`, however many cancels arrive, and only its owner (or an admin) may."""

import asyncio

import httpx
import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import ReservationStatus
from notifications.emails import OrderCancelled
from orders.config import Settings
from orders.main import create_app
from orders.models import Order, OrderStatus, OutboxEvent, Role, User
from orders.orders.cancellation import ORDER_CANCELLED
from roadmap_shared.testing.live_server import live_server
from tests.orders.factories import CHECKOUT, auth, make_user, make_variant, put_in_cart, stock_of
from tests.orders.test_checkout import cart_of, reservation_status


async def cancelled_events(session: AsyncSession) -> list[OutboxEvent]:
    session.expire_all()
    query = select(OutboxEvent).where(OutboxEvent.event_type == ORDER_CANCELLED)
    return list((await session.scalars(query)).all())


async def placed_order(
    client: AsyncClient,
    session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    headers: dict[str, str],
    *,
    stock: int = 5,
    quantity: int = 2,
) -> tuple[int, int]:
    """A placed order of `quantity` units of a new variant; (order id, variant id)."""
    variant = await make_variant(catalog_session, price=1000, stock=stock)
    await put_in_cart(session, buyer, variant, quantity)
    answer = await client.post("/orders", json=CHECKOUT, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"], variant


async def test_cancelling_a_placed_order_returns_its_stock_and_announces_it(
    *,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    buyer_auth: dict[str, str],
) -> None:
    email = buyer.email
    order_id, variant = await placed_order(
        committing_client, committed_session, catalog_session, buyer, buyer_auth
    )
    assert await stock_of(catalog_session, variant) == 3

    answer = await committing_client.post(f"/orders/{order_id}/cancel", headers=buyer_auth)

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled"
    assert await stock_of(catalog_session, variant) == 5
    assert await reservation_status(catalog_session, order_id) is ReservationStatus.CANCELLED
    assert await cart_of(committed_session, buyer) == []  # cancelled, not put back
    (event,) = await cancelled_events(committed_session)
    cancelled = OrderCancelled.model_validate(event.payload)  # the consumer's contract
    assert (cancelled.order_id, cancelled.customer_email) == (order_id, email)
    assert (cancelled.total_amount, cancelled.currency) == (2400, "EUR")
    shown = await committing_client.get(f"/orders/{order_id}", headers=buyer_auth)
    assert shown.json()["status"] == "cancelled"


async def test_a_second_cancel_answers_the_cancelled_order_and_changes_nothing(
    *,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    buyer_auth: dict[str, str],
) -> None:
    order_id, variant = await placed_order(
        committing_client, committed_session, catalog_session, buyer, buyer_auth
    )
    first = await committing_client.post(f"/orders/{order_id}/cancel", headers=buyer_auth)

    again = await committing_client.post(f"/orders/{order_id}/cancel", headers=buyer_auth)

    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert await stock_of(catalog_session, variant) == 5
    assert len(await cancelled_events(committed_session)) == 1


async def test_twenty_cancels_at_once_over_http_return_the_stock_once(
    *,
    settings: Settings,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    buyer_auth: dict[str, str],
) -> None:
    """Other orders of the same variant keep their units: stock returned twice would show
    as more than the cancelled order's two units coming back."""
    order_id, variant = await placed_order(
        committing_client, committed_session, catalog_session, buyer, buyer_auth, stock=10
    )
    await put_in_cart(committed_session, buyer, variant, 3)
    other = await committing_client.post("/orders", json=CHECKOUT, headers=buyer_auth)
    assert other.status_code == 201, other.text
    assert await stock_of(catalog_session, variant) == 5

    with live_server(create_app(settings), settings) as port:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            answers = await asyncio.gather(
                *(http.post(f"/orders/{order_id}/cancel", headers=buyer_auth) for _ in range(20))
            )

    assert [answer.status_code for answer in answers] == [200] * 20, answers[0].text
    assert {answer.json()["status"] for answer in answers} == {"cancelled"}
    assert await stock_of(catalog_session, variant) == 7
    assert len(await cancelled_events(committed_session)) == 1


async def test_someone_elses_order_is_not_found_and_stays_placed(
    *,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    settings: Settings,
    buyer: User,
    buyer_auth: dict[str, str],
) -> None:
    order_id, variant = await placed_order(
        committing_client, committed_session, catalog_session, buyer, buyer_auth
    )
    stranger = auth(settings, await make_user(committed_session))

    answer = await committing_client.post(f"/orders/{order_id}/cancel", headers=stranger)

    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert await stock_of(catalog_session, variant) == 3
    order = await committing_client.get(f"/orders/{order_id}", headers=buyer_auth)
    assert order.json()["status"] == "placed"


async def test_an_admin_may_cancel_a_customers_order(
    *,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    settings: Settings,
    buyer: User,
    buyer_auth: dict[str, str],
) -> None:
    email = buyer.email
    order_id, variant = await placed_order(
        committing_client, committed_session, catalog_session, buyer, buyer_auth
    )
    admin = auth(settings, await make_user(committed_session, role=Role.ADMIN))

    answer = await committing_client.post(f"/orders/{order_id}/cancel", headers=admin)

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled"
    assert await stock_of(catalog_session, variant) == 5
    (event,) = await cancelled_events(committed_session)
    assert event.payload["customer_email"] == email  # the customer is told, not the admin


async def test_cancelling_needs_a_token_and_a_real_order(
    committing_client: AsyncClient, buyer_auth: dict[str, str]
) -> None:
    assert (await committing_client.post("/orders/1/cancel")).status_code == 401
    missing = await committing_client.post("/orders/999999/cancel", headers=buyer_auth)
    assert missing.status_code == 404
    malformed = await committing_client.post("/orders/abc/cancel", headers=buyer_auth)
    assert malformed.status_code == 422


@pytest.mark.parametrize("status", [OrderStatus.FAILED, OrderStatus.PENDING])
async def test_an_order_never_placed_cannot_be_cancelled(
    status: OrderStatus,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    buyer: User,
    buyer_auth: dict[str, str],
) -> None:
    order = Order(
        user_id=buyer.id,
        status=status,
        currency="EUR",
        tax_rate_basis_points=2000,
        shipping_address=CHECKOUT["shipping_address"],
    )
    committed_session.add(order)
    await committed_session.flush()
    order_id = order.id
    await committed_session.commit()

    answer = await committing_client.post(f"/orders/{order_id}/cancel", headers=buyer_auth)

    assert answer.status_code == 409, answer.text
    assert answer.json()["order_id"] == order_id
    status_now = await committed_session.scalar(select(Order.status).where(Order.id == order_id))
    assert status_now is status
    assert await committed_session.scalar(select(func.count()).select_from(OutboxEvent)) == 0


async def test_a_checkout_replayed_after_a_cancel_answers_the_cancelled_order(
    *,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    buyer_auth: dict[str, str],
) -> None:
    """The key's saga has ended: a replay must not confirm (or fail) the order again."""
    variant = await make_variant(catalog_session, price=1000, stock=5)
    await put_in_cart(committed_session, buyer, variant, 2)
    keyed = {**buyer_auth, "Idempotency-Key": "cancel-then-replay"}
    order_id = (await committing_client.post("/orders", json=CHECKOUT, headers=keyed)).json()["id"]
    await committing_client.post(f"/orders/{order_id}/cancel", headers=buyer_auth)

    replay = await committing_client.post("/orders", json=CHECKOUT, headers=keyed)

    assert replay.status_code == 200, replay.text
    assert replay.json()["status"] == "cancelled"
    assert await cart_of(committed_session, buyer) == []
    assert await stock_of(catalog_session, variant) == 5

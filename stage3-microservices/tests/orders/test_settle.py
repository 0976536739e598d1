"""A checkout left unfinished is settled by the worker, which asks the catalog what became
of its reservation: an unknown outcome is not a failure, and no order ends twice."""

import asyncio
from datetime import timedelta

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import ReservationStatus
from orders.catalog_client import CatalogClient
from orders.config import Settings
from orders.main import create_app
from orders.models import Order, OrderLine, OrderStatus, OutboxEvent, User
from orders.orders.checkout import ORDER_PLACED
from orders.orders.settle import settle
from roadmap_shared.database import Database, utcnow
from roadmap_shared.testing.plugin import BASE_URL
from tests.orders.factories import CHECKOUT, make_variant, put_in_cart, stock_of
from tests.orders.test_checkout import cart_of, reservation_status

# Past the settler's wait: every order of a test is stale by then.
LATER = timedelta(hours=1)
SETTLE_AFTER = timedelta(minutes=1)


class LosesConfirmAnswers(httpx.AsyncBaseTransport):
    """The network between orders and the catalog, losing every answer to a confirmation:
    the catalog confirms, and orders hears a timeout (as if the answer never came back)."""

    def __init__(self) -> None:
        self._network = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self._network.handle_async_request(request)
        if request.url.path.endswith("/confirm"):
            await answer.aclose()
            raise httpx.ReadTimeout("the answer was lost on the way back", request=request)
        return answer

    async def aclose(self) -> None:
        await self._network.aclose()


@pytest.fixture
def app(settings: Settings, redis_client: Redis) -> FastAPI:
    return create_app(settings, catalog_transport=LosesConfirmAnswers())


async def unsettled_order(
    session: AsyncSession, buyer: User, variant_id: int, quantity: int, status: OrderStatus
) -> Order:
    """An order a checkout left behind, without an Idempotency-Key: its client cannot
    come back for it."""
    order = Order(
        user_id=buyer.id,
        status=status,
        currency="EUR",
        tax_rate_basis_points=2000,
        shipping_address=CHECKOUT["shipping_address"],
    )
    session.add(order)
    await session.flush()
    session.add(OrderLine(order_id=order.id, variant_id=variant_id, quantity=quantity))
    await session.commit()
    return order


async def status_of(session: AsyncSession, order_id: int) -> OrderStatus:
    status = await session.scalar(select(Order.status).where(Order.id == order_id))
    assert status is not None
    return status


async def placed_events(session: AsyncSession) -> int:
    query = select(func.count()).where(OutboxEvent.event_type == ORDER_PLACED)
    return await session.scalar(query) or 0


async def test_a_lost_confirmation_leaves_the_order_confirming_until_the_settler_places_it(
    *,
    app: FastAPI,
    committing_client: httpx.AsyncClient,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    buyer_auth: dict[str, str],
    database: Database,
    catalog: CatalogClient,
) -> None:
    """Every answer to the confirmation is lost and the breaker opens: the stock is sold,
    so the order must not fail (nor its reservation be released)."""
    variant = await make_variant(catalog_session, price=1000, stock=5)
    await put_in_cart(committed_session, buyer, variant, 2)

    answer = await committing_client.post("/orders", json=CHECKOUT, headers=buyer_auth)

    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "confirming"
    assert answer.headers["location"] == f"/orders/{answer.json()['id']}"
    assert app.state.catalog.breaker.is_open
    order_id = answer.json()["id"]
    assert await reservation_status(catalog_session, order_id) is ReservationStatus.CONFIRMED
    assert await cart_of(committed_session, buyer) == []  # the lines are the order's

    assert await settle(database, catalog, older_than=SETTLE_AFTER, now=utcnow() + LATER) == 1

    assert await status_of(committed_session, order_id) is OrderStatus.PLACED
    placed = await committing_client.get(f"/orders/{order_id}", headers=buyer_auth)
    assert placed.json()["total"] == {"amount": 2400, "currency": "EUR"}
    assert await placed_events(committed_session) == 1
    assert await stock_of(catalog_session, variant) == 3
    assert await cart_of(committed_session, buyer) == []


async def test_a_confirming_order_whose_confirmation_never_arrived_is_confirmed_and_placed(
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    database: Database,
    catalog: CatalogClient,
) -> None:
    variant = await make_variant(catalog_session, stock=5)
    order = await unsettled_order(committed_session, buyer, variant, 1, OrderStatus.CONFIRMING)
    await catalog.reserve(order.reservation_key, [(variant, 1)])

    await settle(database, catalog, older_than=SETTLE_AFTER, now=utcnow() + LATER)

    assert await status_of(committed_session, order.id) is OrderStatus.PLACED
    assert await reservation_status(catalog_session, order.id) is ReservationStatus.CONFIRMED
    assert await stock_of(catalog_session, variant) == 4


async def test_a_confirming_order_whose_reservation_was_released_fails_and_restores_the_cart(
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    database: Database,
    catalog: CatalogClient,
) -> None:
    variant = await make_variant(catalog_session, stock=5)
    order = await unsettled_order(committed_session, buyer, variant, 2, OrderStatus.CONFIRMING)
    await catalog.reserve(order.reservation_key, [(variant, 2)])
    await catalog.release(order.reservation_key)

    await settle(database, catalog, older_than=SETTLE_AFTER, now=utcnow() + LATER)

    assert await status_of(committed_session, order.id) is OrderStatus.FAILED
    assert await cart_of(committed_session, buyer) == [(variant, 2)]
    assert await stock_of(catalog_session, variant) == 5
    assert await placed_events(committed_session) == 0


async def test_a_pending_checkout_without_an_idempotency_key_is_failed_and_released(
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    database: Database,
    catalog: CatalogClient,
) -> None:
    """Its process died after reserving; its client sent no key, so nobody resumes it."""
    variant = await make_variant(catalog_session, stock=5)
    order = await unsettled_order(committed_session, buyer, variant, 2, OrderStatus.PENDING)
    await catalog.reserve(order.reservation_key, [(variant, 2)])

    await settle(database, catalog, older_than=SETTLE_AFTER, now=utcnow() + LATER)

    assert await status_of(committed_session, order.id) is OrderStatus.FAILED
    assert await reservation_status(catalog_session, order.id) is ReservationStatus.RELEASED
    assert await stock_of(catalog_session, variant) == 5
    assert await cart_of(committed_session, buyer) == [(variant, 2)]


async def test_a_checkout_still_running_is_left_alone(
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    database: Database,
    catalog: CatalogClient,
) -> None:
    variant = await make_variant(catalog_session, stock=5)
    order = await unsettled_order(committed_session, buyer, variant, 2, OrderStatus.PENDING)

    assert await settle(database, catalog, older_than=SETTLE_AFTER, now=utcnow()) == 0

    assert await status_of(committed_session, order.id) is OrderStatus.PENDING


async def test_a_catalog_that_cannot_be_reached_leaves_the_order_for_the_next_pass(
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    database: Database,
    settings: Settings,
) -> None:
    variant = await make_variant(catalog_session, stock=5)
    order = await unsettled_order(committed_session, buyer, variant, 1, OrderStatus.CONFIRMING)
    closed = settings.model_copy(update={"catalog_url": "http://127.0.0.1:9"})  # discard
    unreachable = CatalogClient.from_settings(closed)
    try:
        settled = await settle(database, unreachable, older_than=SETTLE_AFTER, now=utcnow() + LATER)
    finally:
        await unreachable.aclose()

    assert settled == 0
    assert await status_of(committed_session, order.id) is OrderStatus.CONFIRMING


async def test_two_settlers_at_once_place_the_order_once(
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    database: Database,
    catalog: CatalogClient,
) -> None:
    """Two workers (one per replica) find the same confirmed order: one `order.placed`."""
    variant = await make_variant(catalog_session, stock=5)
    order = await unsettled_order(committed_session, buyer, variant, 1, OrderStatus.CONFIRMING)
    await catalog.reserve(order.reservation_key, [(variant, 1)])
    await catalog.confirm(order.reservation_key)

    later = utcnow() + LATER
    await asyncio.gather(
        *(settle(database, catalog, older_than=SETTLE_AFTER, now=later) for _ in range(5))
    )

    assert await status_of(committed_session, order.id) is OrderStatus.PLACED
    assert await placed_events(committed_session) == 1
    assert await stock_of(catalog_session, variant) == 4


class RefusesEverything(httpx.AsyncBaseTransport):
    """A catalog that turns every call away without a word about the reservation (as when
    it no longer accepts orders' service token)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"detail": "Not authenticated"}, request=request)


async def test_a_refusal_that_says_nothing_of_the_reservation_leaves_the_order_confirming(
    *,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    database: Database,
    catalog: CatalogClient,
    settings: Settings,
) -> None:
    """The stock is sold; a 401 must not fail the order and give the cart back to be sold
    a second time."""
    variant = await make_variant(catalog_session, stock=5)
    order = await unsettled_order(committed_session, buyer, variant, 1, OrderStatus.CONFIRMING)
    await catalog.reserve(order.reservation_key, [(variant, 1)])
    await catalog.confirm(order.reservation_key)
    refusing = CatalogClient.from_settings(settings, transport=RefusesEverything())
    try:
        settled = await settle(database, refusing, older_than=SETTLE_AFTER, now=utcnow() + LATER)
    finally:
        await refusing.aclose()

    assert settled == 0
    assert await status_of(committed_session, order.id) is OrderStatus.CONFIRMING
    assert await cart_of(committed_session, buyer) == []

    await settle(database, catalog, older_than=SETTLE_AFTER, now=utcnow() + LATER)

    assert await status_of(committed_session, order.id) is OrderStatus.PLACED


class RefusesOneReservation(httpx.AsyncBaseTransport):
    """A catalog that turns away every question about one reservation (a 401, saying
    nothing of it) and answers the others."""

    def __init__(self, key: str) -> None:
        self._key = key
        self._network = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._key in request.url.path:
            return httpx.Response(401, json={"detail": "Not authenticated"}, request=request)
        return await self._network.handle_async_request(request)

    async def aclose(self) -> None:
        await self._network.aclose()


async def test_an_order_that_finds_no_end_goes_behind_the_others(
    *,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    database: Database,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Passes take the oldest orders first: without this, a full batch of orders that
    always fail would be all that any pass ever looks at."""
    monkeypatch.setattr("orders.orders.settle.SETTLE_BATCH", 1)
    variant = await make_variant(catalog_session, stock=5)
    stuck = await unsettled_order(committed_session, buyer, variant, 1, OrderStatus.CONFIRMING)
    behind = await unsettled_order(committed_session, buyer, variant, 1, OrderStatus.CONFIRMING)
    catalog = CatalogClient.from_settings(
        settings, transport=RefusesOneReservation(stuck.reservation_key)
    )
    try:
        await catalog.reserve(behind.reservation_key, [(variant, 1)])
        await catalog.confirm(behind.reservation_key)

        first = await settle(database, catalog, older_than=SETTLE_AFTER, now=utcnow() + LATER)
        second = await settle(database, catalog, older_than=SETTLE_AFTER, now=utcnow() + LATER)
    finally:
        await catalog.aclose()

    assert (first, second) == (0, 1)
    assert await status_of(committed_session, stuck.id) is OrderStatus.CONFIRMING
    assert await status_of(committed_session, behind.id) is OrderStatus.PLACED


class BreaksOn(httpx.AsyncBaseTransport):
    """The network to the catalog, with a fault nobody planned for on one reservation's
    requests (not a network error: a bug, say, in what orders does with the answer)."""

    def __init__(self, key: str) -> None:
        self._key = key
        self._network = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith(f"/reservations/{self._key}"):
            raise RuntimeError("an unexpected fault")
        return await self._network.handle_async_request(request)

    async def aclose(self) -> None:
        await self._network.aclose()


async def test_an_order_whose_settling_breaks_does_not_stop_the_others(
    *,
    settings: Settings,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    database: Database,
    catalog: CatalogClient,
) -> None:
    variant = await make_variant(catalog_session, price=1000, stock=5)
    broken = await unsettled_order(committed_session, buyer, variant, 1, OrderStatus.CONFIRMING)
    fine = await unsettled_order(committed_session, buyer, variant, 1, OrderStatus.CONFIRMING)
    broken_id, fine_id = broken.id, fine.id
    for order_id in (broken_id, fine_id):
        await catalog.reserve(f"order-{order_id}", [(variant, 1)])
        await catalog.confirm(f"order-{order_id}")
    faulty = CatalogClient.from_settings(settings, transport=BreaksOn(f"order-{broken_id}"))
    try:
        settled = await settle(database, faulty, older_than=SETTLE_AFTER, now=utcnow() + LATER)
    finally:
        await faulty.aclose()

    assert settled == 1
    assert await status_of(committed_session, fine_id) is OrderStatus.PLACED
    assert await status_of(committed_session, broken_id) is OrderStatus.CONFIRMING


class SettlesBeforeConfirming(httpx.AsyncBaseTransport):
    """The network to the catalog, where the settler places the order just before a
    retried checkout's confirmation arrives: the two finish the same order at once."""

    def __init__(self, database: Database, catalog: CatalogClient) -> None:
        self._network = httpx.AsyncHTTPTransport()
        self._database = database
        self._catalog = catalog

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/confirm"):
            await settle(
                self._database, self._catalog, older_than=SETTLE_AFTER, now=utcnow() + LATER
            )
        return await self._network.handle_async_request(request)

    async def aclose(self) -> None:
        await self._network.aclose()


async def test_a_checkout_replayed_while_the_settler_places_it_answers_as_a_replay(
    *,
    settings: Settings,
    redis_client: Redis,
    committing_client: httpx.AsyncClient,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    buyer_auth: dict[str, str],
    database: Database,
    catalog: CatalogClient,
) -> None:
    """The replay did not place the order, the settler did: a fresh `201` would tell the
    client that this request placed a second one."""
    variant = await make_variant(catalog_session, price=1000, stock=5)
    await put_in_cart(committed_session, buyer, variant, 1)
    keyed = {**buyer_auth, "Idempotency-Key": "replayed-while-settled"}
    first = await committing_client.post("/orders", json=CHECKOUT, headers=keyed)
    assert first.status_code == 202, first.text
    replaying = create_app(settings, catalog_transport=SettlesBeforeConfirming(database, catalog))

    async with (
        LifespanManager(replaying) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url=BASE_URL
        ) as http,
    ):
        replay = await http.post("/orders", json=CHECKOUT, headers=keyed)
        shown = await http.get(f"/orders/{first.json()['id']}", headers=buyer_auth)

    assert replay.status_code == 200, replay.text
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == shown.json()
    assert replay.json()["status"] == "placed"
    assert await placed_events(committed_session) == 1

"""Cancelling where the saga is not done: a `confirming` order (its confirmation may or may
not have arrived), and a catalog that cannot be reached, which leaves the cancellation
to the settler. Either way the stock comes back once, and nothing is confirmed after."""

import socket

import httpx
import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import ReservationStatus
from orders.catalog_client import CatalogClient, CatalogRefused
from orders.config import Settings
from orders.main import create_app
from orders.models import OrderStatus, OutboxEvent, User
from orders.orders.cancellation import ORDER_CANCELLED
from orders.orders.settle import settle
from roadmap_shared.database import Database, utcnow
from roadmap_shared.testing.plugin import BASE_URL
from tests.orders.factories import make_variant, stock_of
from tests.orders.test_checkout import reservation_status
from tests.orders.test_settle import LATER, SETTLE_AFTER, status_of, unsettled_order


async def cancelled_events(session: AsyncSession) -> int:
    query = select(func.count()).where(OutboxEvent.event_type == ORDER_CANCELLED)
    return await session.scalar(query) or 0


@pytest.mark.parametrize("confirmation_arrived", [True, False])
async def test_a_confirming_order_is_cancelled_whether_or_not_its_confirmation_arrived(
    *,
    confirmation_arrived: bool,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    buyer_auth: dict[str, str],
    catalog: CatalogClient,
) -> None:
    variant = await make_variant(catalog_session, stock=5)
    order_id = (
        await unsettled_order(committed_session, buyer, variant, 2, OrderStatus.CONFIRMING)
    ).id
    key = f"order-{order_id}"
    await catalog.reserve(key, [(variant, 2)])
    if confirmation_arrived:
        await catalog.confirm(key)

    answer = await committing_client.post(f"/orders/{order_id}/cancel", headers=buyer_auth)

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled"
    assert await stock_of(catalog_session, variant) == 5
    expected = ReservationStatus.CANCELLED if confirmation_arrived else ReservationStatus.RELEASED
    assert await reservation_status(catalog_session, order_id) is expected
    # A confirmation still on its way (the checkout's, or the settler's) is refused now.
    with pytest.raises(CatalogRefused) as refused:
        await catalog.confirm(key)
    assert refused.value.status == 409
    assert await stock_of(catalog_session, variant) == 5


@pytest.fixture
def refusing_port() -> int:
    closed = socket.create_server(("127.0.0.1", 0))
    port: int = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    return port


async def test_a_cancel_the_catalog_cannot_answer_is_503_and_the_settler_finishes_it(
    *,
    settings: Settings,
    refusing_port: int,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    buyer_auth: dict[str, str],
    catalog: CatalogClient,
    database: Database,
) -> None:
    variant = await make_variant(catalog_session, stock=5)
    order_id = (await unsettled_order(committed_session, buyer, variant, 2, OrderStatus.PLACED)).id
    await catalog.reserve(f"order-{order_id}", [(variant, 2)])
    await catalog.confirm(f"order-{order_id}")
    down = create_app(
        settings.model_copy(update={"catalog_url": f"http://127.0.0.1:{refusing_port}"})
    )

    async with (
        LifespanManager(down) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url=BASE_URL) as http,
    ):
        answer = await http.post(f"/orders/{order_id}/cancel", headers=buyer_auth)

        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert int(answer.headers["retry-after"]) >= 1
        # Decided, not done: the order can no longer be placed, its stock is not back
        # yet, and nothing has been announced.
        assert await status_of(committed_session, order_id) is OrderStatus.CANCELLING
        assert await stock_of(catalog_session, variant) == 3
        assert await cancelled_events(committed_session) == 0

        now = utcnow() + LATER
        assert await settle(database, catalog, older_than=SETTLE_AFTER, now=now) == 1

        assert await status_of(committed_session, order_id) is OrderStatus.CANCELLED
        assert await stock_of(catalog_session, variant) == 5
        assert await cancelled_events(committed_session) == 1
        # The customer's retry, with the catalog still out of reach: what is done needs
        # no catalog to be answered again.
        again = await http.post(f"/orders/{order_id}/cancel", headers=buyer_auth)
        assert (again.status_code, again.json()["status"]) == (200, "cancelled")

    assert await stock_of(catalog_session, variant) == 5
    assert await cancelled_events(committed_session) == 1


async def test_the_settler_leaves_a_cancelling_order_while_the_catalog_is_down(
    *,
    settings: Settings,
    refusing_port: int,
    committed_session: AsyncSession,
    buyer: User,
    database: Database,
) -> None:
    order_id = (await unsettled_order(committed_session, buyer, 1, 2, OrderStatus.CANCELLING)).id
    down = CatalogClient.from_settings(
        settings.model_copy(update={"catalog_url": f"http://127.0.0.1:{refusing_port}"})
    )
    try:
        settled = await settle(database, down, older_than=SETTLE_AFTER, now=utcnow() + LATER)
    finally:
        await down.aclose()

    assert settled == 0
    assert await status_of(committed_session, order_id) is OrderStatus.CANCELLING


class ConfirmsBeforeTheRelease(httpx.AsyncBaseTransport):
    """The network to the catalog, where the checkout's confirmation lands between the
    cancel's two calls: after the catalog said "held, not confirmed", before the release."""

    def __init__(self, catalog: CatalogClient) -> None:
        self._network = httpx.AsyncHTTPTransport()
        self._catalog = catalog

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/release"):
            await self._catalog.confirm(request.url.path.split("/")[2])
        return await self._network.handle_async_request(request)

    async def aclose(self) -> None:
        await self._network.aclose()


async def test_a_confirmation_landing_mid_cancel_is_cancelled_all_the_same(
    *,
    settings: Settings,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    buyer_auth: dict[str, str],
    catalog: CatalogClient,
) -> None:
    variant = await make_variant(catalog_session, stock=5)
    order_id = (
        await unsettled_order(committed_session, buyer, variant, 2, OrderStatus.CONFIRMING)
    ).id
    await catalog.reserve(f"order-{order_id}", [(variant, 2)])
    racing = create_app(settings, catalog_transport=ConfirmsBeforeTheRelease(catalog))

    async with (
        LifespanManager(racing) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url=BASE_URL) as http,
    ):
        answer = await http.post(f"/orders/{order_id}/cancel", headers=buyer_auth)

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled"
    assert await reservation_status(catalog_session, order_id) is ReservationStatus.CANCELLED
    assert await stock_of(catalog_session, variant) == 5

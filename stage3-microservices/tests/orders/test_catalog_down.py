"""The catalog cannot be reached: checkout answers 503 with Retry-After, within a bounded
time, holds nothing, and the circuit breaker spares the next checkouts the wait."""

import socket
from collections.abc import Iterator

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders.config import Settings
from orders.main import create_app
from orders.models import CartItem, Order, OrderStatus, User
from roadmap_shared.testing.plugin import BASE_URL
from tests.orders.factories import CHECKOUT, auth, make_user, put_in_cart

BREAKER_FAILURES = 3


class HungCatalog:
    """A catalog that accepts connections and never answers: the worst kind of down (a
    refused connection fails at once, this one costs the whole timeout). Counts them."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.kept: list[socket.socket] = []  # accepted, and held open, as a hung server does

    def connections(self) -> int:
        """How many connections have been made to it so far."""
        while True:
            try:
                connection, _ = self.listener.accept()
            except BlockingIOError:
                return len(self.kept)
            self.kept.append(connection)


@pytest.fixture(scope="module")
def hung_catalog() -> Iterator[HungCatalog]:
    catalog = HungCatalog()
    yield catalog
    for connection in catalog.kept:
        connection.close()
    catalog.listener.close()


@pytest.fixture
def app(settings: Settings, redis_client: Redis, hung_catalog: HungCatalog) -> FastAPI:
    down = settings.model_copy(
        update={
            "catalog_url": f"http://127.0.0.1:{hung_catalog.port}",
            "catalog_timeout_seconds": 0.2,
            "catalog_attempts": 2,
            "catalog_breaker_failures": BREAKER_FAILURES,
            "catalog_breaker_cooldown_seconds": 60.0,
        }
    )
    return create_app(down)


async def test_a_hung_catalog_makes_checkout_answer_503_and_opens_the_breaker(
    app: FastAPI,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    hung_catalog: HungCatalog,
    settings: Settings,
) -> None:
    buyer = await make_user(committed_session)
    await put_in_cart(committed_session, buyer, 1, 2)
    headers = auth(settings, buyer)

    answer = await committing_client.post("/orders", json=CHECKOUT, headers=headers)

    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert int(answer.headers["retry-after"]) >= 1
    order = (
        await committed_session.scalars(select(Order).execution_options(populate_existing=True))
    ).one()
    assert order.status is OrderStatus.FAILED
    committed_session.expire_all()
    lines = (await committed_session.execute(select(CartItem.variant_id, CartItem.quantity))).all()
    assert [tuple(line) for line in lines] == [(1, 2)]  # the cart is as it was
    # Two attempts at the reservation, then the release that would compensate it: the
    # third failure in a row opened the breaker.
    assert app.state.catalog.breaker.is_open
    reached = hung_catalog.connections()

    for _ in range(3):
        again = await committing_client.post("/orders", json=CHECKOUT, headers=headers)
        assert again.status_code == 503
    assert hung_catalog.connections() == reached  # the open breaker spared the catalog


async def test_a_catalog_that_refuses_connections_is_a_503_as_well(
    settings: Settings, redis_client: Redis, committed_session: AsyncSession
) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    app = create_app(settings.model_copy(update={"catalog_url": f"http://127.0.0.1:{port}"}))
    buyer: User = await make_user(committed_session)
    await put_in_cart(committed_session, buyer, 1, 1)
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url=BASE_URL) as http,
    ):
        answer = await http.post("/orders", json=CHECKOUT, headers=auth(settings, buyer))
    assert answer.status_code == 503
    assert "Retry-After" in answer.headers

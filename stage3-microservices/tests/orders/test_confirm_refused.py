"""A refusal to confirm that says nothing of the reservation (the catalog no longer trusts
orders' token, or rate-limits it) is not the reservation's end: the stock may be sold."""

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import ReservationStatus
from orders.config import Settings
from orders.main import create_app
from orders.models import Order, OrderStatus, User
from tests.orders.factories import CHECKOUT, make_variant, put_in_cart, stock_of
from tests.orders.test_checkout import cart_of, reservation_status


class ConfirmsThenRefuses(httpx.AsyncBaseTransport):
    """The catalog confirms, and orders hears a 401 (the confirmation's first answer was
    lost, and the retry's token had been rotated out meanwhile)."""

    def __init__(self) -> None:
        self._network = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self._network.handle_async_request(request)
        if not request.url.path.endswith("/confirm"):
            return answer
        await answer.aread()
        await answer.aclose()
        return httpx.Response(401, json={"detail": "Not authenticated"}, request=request)

    async def aclose(self) -> None:
        await self._network.aclose()


@pytest.fixture
def app(settings: Settings, redis_client: Redis) -> FastAPI:
    return create_app(settings, catalog_transport=ConfirmsThenRefuses())


async def test_a_confirmation_refused_with_a_401_leaves_the_order_confirming_and_the_cart_empty(
    *,
    committing_client: httpx.AsyncClient,
    committed_session: AsyncSession,
    catalog_session: AsyncSession,
    buyer: User,
    buyer_auth: dict[str, str],
) -> None:
    variant = await make_variant(catalog_session, stock=5)
    await put_in_cart(committed_session, buyer, variant, 2)

    answer = await committing_client.post(
        "/orders", json=CHECKOUT, headers={**buyer_auth, "Idempotency-Key": "rotated-key"}
    )

    assert answer.status_code == 503, answer.text
    assert "retry-after" in answer.headers
    order = await committed_session.scalar(select(Order).where(Order.user_id == buyer.id))
    assert order is not None
    assert order.status is OrderStatus.CONFIRMING  # for the settler, not failed
    assert await reservation_status(catalog_session, order.id) is ReservationStatus.CONFIRMED
    assert await stock_of(catalog_session, variant) == 3
    assert await cart_of(committed_session, buyer) == []  # never given back to be sold again

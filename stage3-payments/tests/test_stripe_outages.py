"""When Stripe fails: retries with one idempotency key, then a clear problem response.

The stand-in here is a few lines of asyncio on loopback that answer the way a failing
Stripe would (a 500 with Stripe's error body, a connection closed, no answer at all),
because the emulator cannot be made to fail. It is replaced by the shared Stripe double
(`roadmap_shared.testing.stripe_double`) with its failure injection once that exists.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from billing.config import Settings
from billing.main import create_app
from billing.models import Payment
from billing.stripe_gateway import BadGateway, StripeGateway
from roadmap_shared.errors import ServiceUnavailable
from tests.factories import new_tenant


@dataclass
class FailingStripe:
    base_url: str
    idempotency_keys: list[str] = field(default_factory=list)


async def _read_request(reader: asyncio.StreamReader) -> dict[str, str]:
    head = await reader.readuntil(b"\r\n\r\n")
    headers = {}
    for line in head.decode().split("\r\n")[1:]:
        if ": " in line:
            name, value = line.split(": ", 1)
            headers[name.lower()] = value
    await reader.readexactly(int(headers.get("content-length", "0")))
    return headers


@asynccontextmanager
async def failing_stripe(answer: str) -> AsyncIterator[FailingStripe]:
    server_state = FailingStripe(base_url="")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        headers = await _read_request(reader)
        server_state.idempotency_keys.append(headers.get("idempotency-key", ""))
        if answer == "500":
            body = json.dumps({"error": {"type": "api_error", "message": "Stripe broke"}})
            writer.write(
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}".encode()
            )
            await writer.drain()
        elif answer == "silence":
            await asyncio.sleep(5)
        writer.close()  # "close": the connection ends without an answer

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server_state.base_url = f"http://127.0.0.1:{port}"
    try:
        yield server_state
    finally:
        server.close()


def gateway_against(base_url: str, settings: Settings, **overrides: object) -> StripeGateway:
    values = {"stripe_api_base": base_url, "stripe_timeout_seconds": 1.0, **overrides}
    return StripeGateway(settings.model_copy(update=values))


async def create_intent(gateway: StripeGateway) -> None:
    try:
        await gateway.create_payment_intent(
            amount=1_000,
            currency="eur",
            customer="cus_test",
            metadata={},
            idempotency_key="payment-42",
        )
    finally:
        await gateway.close()


async def test_a_500_is_retried_with_the_same_key_then_is_a_502(settings: Settings) -> None:
    async with failing_stripe("500") as stripe_server:
        gateway = gateway_against(stripe_server.base_url, settings, stripe_max_network_retries=2)
        with pytest.raises(BadGateway) as failed:
            await create_intent(gateway)
    assert failed.value.status == 502
    # Tried once and retried twice (`max_network_retries`), always under our own key, so
    # a request that did reach Stripe cannot create a second PaymentIntent.
    assert stripe_server.idempotency_keys == ["payment-42"] * 3


async def test_a_dropped_connection_is_retried_then_is_a_503_with_retry_after(
    settings: Settings,
) -> None:
    async with failing_stripe("close") as stripe_server:
        gateway = gateway_against(stripe_server.base_url, settings, stripe_max_network_retries=1)
        with pytest.raises(ServiceUnavailable) as failed:
            await create_intent(gateway)
    assert failed.value.status == 503
    assert int(failed.value.headers["Retry-After"]) > 0
    assert stripe_server.idempotency_keys == ["payment-42"] * 2


async def test_no_answer_times_out_as_a_503(settings: Settings) -> None:
    async with failing_stripe("silence") as stripe_server:
        gateway = gateway_against(
            stripe_server.base_url,
            settings,
            stripe_max_network_retries=0,
            stripe_timeout_seconds=0.3,
        )
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            await create_intent(gateway)
    assert time.monotonic() - started < 3


@pytest.fixture
def app(settings: Settings, redis_client: Redis) -> FastAPI:
    """The suite's app, with Stripe unreachable: nothing listens on port 9 of loopback."""
    unreachable = {"stripe_api_base": "http://127.0.0.1:9", "stripe_max_network_retries": 0}
    return create_app(settings.model_copy(update=unreachable))


async def test_paying_while_stripe_is_down_is_a_503_and_leaves_nothing(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    tenant = await new_tenant(client)
    response = await client.post(
        f"/organizations/{tenant.id}/payments",
        json={"product": "credits_100"},
        headers=tenant.owner,
    )
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "Retry-After" in response.headers
    await db_session.execute(text("RESET ROLE"))
    assert await db_session.scalar(select(func.count()).select_from(Payment)) == 0

"""A cancelled order gives its stock back: the catalog's side,
`POST /reservations/{key}/cancel` on a confirmed reservation, once however often."""

import asyncio

import httpx
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.config import Settings
from catalog.main import create_app
from roadmap_shared.security.public_keys import JWKS_PATH, TokenSigner
from roadmap_shared.testing.live_server import live_server
from tests.catalog.factories import make_product, service_bearer, stock_of, variants_of

CANCELS = 20


def lines(variant_id: int, quantity: int) -> dict[str, list[dict[str, int]]]:
    return {"lines": [{"variant_id": variant_id, "quantity": quantity}]}


async def confirmed(http: AsyncClient, key: str, variant_id: int, service: dict[str, str]) -> None:
    held = await http.put(f"/reservations/{key}", json=lines(variant_id, 2), headers=service)
    assert held.status_code == 201, held.text
    done = await http.post(f"/reservations/{key}/confirm", headers=service)
    assert done.status_code == 200, done.text


async def test_a_cancelled_order_gives_its_stock_back_once(
    client: AsyncClient, db_session: AsyncSession, orders_service: dict[str, str]
) -> None:
    product = await make_product(db_session, prices_and_stock=[(1000, 5)])
    (variant,) = await variants_of(db_session, product)
    await confirmed(client, "order-1", variant.id, orders_service)

    first = await client.post("/reservations/order-1/cancel", headers=orders_service)
    assert first.status_code == 200
    assert first.json()["status"] == "cancelled"
    again = await client.post("/reservations/order-1/cancel", headers=orders_service)
    assert (again.status_code, again.json()) == (200, first.json())
    assert await stock_of(db_session, variant.id) == 5
    # The saga's other steps know the state: a cancelled reservation is no longer confirmed.
    assert (
        await client.post("/reservations/order-1/confirm", headers=orders_service)
    ).status_code == 409
    assert (
        await client.post("/reservations/order-1/release", headers=orders_service)
    ).status_code == 409


async def test_only_a_confirmed_reservation_is_cancelled_and_only_by_a_service(
    client: AsyncClient,
    db_session: AsyncSession,
    orders_service: dict[str, str],
    customer: dict[str, str],
    admin: dict[str, str],
) -> None:
    product = await make_product(db_session, prices_and_stock=[(1000, 5)])
    (variant,) = await variants_of(db_session, product)
    held = await client.put("/reservations/held", json=lines(variant.id, 1), headers=orders_service)
    assert held.status_code == 201

    refused = await client.post("/reservations/held/cancel", headers=orders_service)
    assert refused.status_code == 409  # release it instead
    unknown = await client.post("/reservations/never-made/cancel", headers=orders_service)
    assert unknown.status_code == 404
    for headers in ({}, customer, admin):
        answer = await client.post("/reservations/held/cancel", headers=headers)
        assert answer.status_code == 401
    assert await stock_of(db_session, variant.id) == 4


async def test_cancels_at_once_give_the_stock_back_once(
    committed_session: AsyncSession, settings: Settings, signer: TokenSigner
) -> None:
    """The orders service retries, and two instances may cancel the same order: over real
    HTTP, each request its own transaction, the stock comes back exactly once."""
    product = await make_product(committed_session, prices_and_stock=[(1000, 5)])
    (variant,) = await variants_of(committed_session, product)
    service = service_bearer(signer)
    keys = FastAPI()
    keys.get(JWKS_PATH)(signer.jwks)
    with live_server(keys, settings) as keys_port:
        catalog_settings = settings.model_copy(
            update={"jwks_url": f"http://127.0.0.1:{keys_port}{JWKS_PATH}"}
        )
        with live_server(create_app(catalog_settings), catalog_settings) as port:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                await confirmed(http, "order-7", variant.id, service)
                answers = await asyncio.gather(
                    *(
                        http.post("/reservations/order-7/cancel", headers=service)
                        for _ in range(CANCELS)
                    )
                )
    assert [answer.status_code for answer in answers] == [200] * CANCELS
    assert await stock_of(committed_session, variant.id) == 5

"""Fifty reservations at once on ten units, over real HTTP: exactly ten succeed.

The catalog runs under uvicorn on a loopback port (as in production: each request its own
connection and transaction), and fetches the public keys from a JWKS server of its own.
"""

import asyncio
from asyncio import Task
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from catalog.config import Settings
from catalog.main import create_app
from catalog.reservations import service
from catalog.reservations.schemas import ReservationLineIn, ReservationRequest
from roadmap_shared.database import utcnow
from roadmap_shared.security.public_keys import JWKS_PATH, TokenSigner
from roadmap_shared.testing.live_server import live_server
from tests.catalog.factories import NO_CACHE, make_product, service_bearer, stock_of, variants_of

BUYERS = 50
STOCK = 10


async def test_fifty_concurrent_reservations_on_stock_ten_reserve_exactly_ten(
    committed_session: AsyncSession, settings: Settings, signer: TokenSigner
) -> None:
    product = await make_product(committed_session, prices_and_stock=[(1000, STOCK)])
    (variant,) = await variants_of(committed_session, product)
    keys = FastAPI()
    keys.get(JWKS_PATH)(signer.jwks)
    with live_server(keys, settings) as keys_port:
        catalog_settings = settings.model_copy(
            update={"jwks_url": f"http://127.0.0.1:{keys_port}{JWKS_PATH}"}
        )
        with live_server(create_app(catalog_settings), catalog_settings) as port:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                answers = await asyncio.gather(
                    *(
                        http.put(
                            f"/reservations/order-{n}",
                            json={"lines": [{"variant_id": variant.id, "quantity": 1}]},
                            headers=service_bearer(signer),
                        )
                        for n in range(BUYERS)
                    )
                )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * STOCK + [409] * (BUYERS - STOCK)
    assert await stock_of(committed_session, variant.id) == 0


async def until_a_request_waits_for_a_lock(watching: AsyncConnection, request: Task[Any]) -> None:
    """Returns once some query of this database is waiting for a lock."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(500):  # a bound, so that a broken test fails instead of hanging
        found = await watching.scalar(waiting)
        await watching.rollback()  # the activity view is a snapshot per transaction
        if found or request.done():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the release never waited for the reservation being made")


async def test_a_release_racing_its_reservation_releases_it_once_it_is_made(
    committing_client: httpx.AsyncClient,
    committed_session: AsyncSession,
    db_engine: AsyncEngine,
    orders_service: dict[str, str],
) -> None:
    """The saga gave up on a slow reservation and released it while the catalog was still
    making it: the release waits for it, then gives its stock back (not "held")."""
    product = await make_product(committed_session, prices_and_stock=[(1000, STOCK)])
    (variant,) = await variants_of(committed_session, product)
    request = ReservationRequest(lines=[ReservationLineIn(variant_id=variant.id, quantity=4)])
    async with AsyncSession(db_engine) as reserving, db_engine.connect() as watching:
        await service.reserve(
            reserving, NO_CACHE, "order-1", request, ttl=timedelta(minutes=5), now=utcnow()
        )
        release = asyncio.create_task(
            committing_client.post("/reservations/order-1/release", headers=orders_service)
        )
        await until_a_request_waits_for_a_lock(watching, release)
        await reserving.commit()
        released = await release
    assert released.status_code == 200
    assert released.json()["status"] == "released"
    assert await stock_of(committed_session, variant.id) == STOCK

"""Fifty reservations at once on ten units, over real HTTP: exactly ten succeed.

The catalog runs under uvicorn on a loopback port (as in production: each request its own
connection and transaction), and fetches the public keys from a JWKS server of its own.
"""

import asyncio

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.config import Settings
from catalog.main import create_app
from roadmap_shared.security.public_keys import JWKS_PATH, TokenSigner
from roadmap_shared.testing.live_server import live_server
from tests.catalog.factories import make_product, service_bearer, stock_of, variants_of

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

"""The app factory: wires settings, PostgreSQL, Redis, the token signer and the client of
the catalog service (timeouts, retries, circuit breaker)."""

import httpx
from fastapi import FastAPI

from orders.accounts.keys_router import router as keys_router
from orders.accounts.router import router as accounts_router
from orders.cart.router import router as cart_router
from orders.catalog_client import CatalogClient
from orders.config import Settings, get_settings
from orders.orders.router import router as orders_router
from roadmap_shared import tracing
from roadmap_shared.app import create_app as create_base_app
from roadmap_shared.database import Database
from roadmap_shared.ratelimit import RateLimiter
from roadmap_shared.resources import AppResources

DESCRIPTION = """
The orders service of the shop: accounts, carts and checkout. Sign up at
`/auth/register`, get a token at `/auth/login`, and send it as
`Authorization: Bearer <token>`. Tokens are signed with an Ed25519 key whose public half
is at `/.well-known/jwks.json`; the catalog service verifies them with it. A checkout
reserves the stock in the catalog service, then places the order.
"""


SERVICE_NAME = "orders"


def create_app(
    settings: Settings | None = None,
    *,
    tracer_provider: tracing.TracerProvider | None = None,
    catalog_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`tracer_provider`: where the spans go; by default, the collector that
    `OTEL_EXPORTER_OTLP_ENDPOINT` names, or nowhere (tracing off) when it is unset.
    `catalog_transport`: what carries the calls to the catalog (tests put a faulty
    network there); by default, HTTP to `settings.catalog_url`."""
    settings = settings or get_settings()
    tracer_provider = tracer_provider or tracing.tracer_provider_from_settings(SERVICE_NAME)
    resources = AppResources(Database.from_settings(settings), redis_url=settings.redis_url)
    catalog = CatalogClient.from_settings(
        settings, transport=catalog_transport, tracer_provider=tracer_provider
    )
    resources.close_at_shutdown(catalog.aclose)
    app = create_base_app(
        settings,
        title="Orders",
        description=DESCRIPTION,
        routers=[accounts_router, keys_router, cart_router, orders_router],
        resources=resources,
        tracer_provider=tracer_provider,
    )
    signer = settings.token_signer()
    app.state.token_signer = signer
    app.state.token_verifier = signer.verifier()
    app.state.rate_limiter = RateLimiter(
        resources.redis, prefix="orders:ratelimit", breaker=resources.redis_breaker
    )
    app.state.catalog = catalog
    return app

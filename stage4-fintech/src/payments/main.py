"""The app factory: wires settings, PostgreSQL, Redis (login rate limits), the token
signer and the ledger's gRPC client."""

from fastapi import FastAPI

from payments.config import Settings, get_settings
from payments.customers.router import router as customers_router
from payments.fraud.router import router as reviews_router
from payments.ledger_client import LedgerClient
from payments.payments.router import router as payments_router
from payments.wallets.router import router as wallets_router
from roadmap_shared import tracing
from roadmap_shared.app import create_app as create_base_app
from roadmap_shared.database import Database
from roadmap_shared.ratelimit import RateLimiter
from roadmap_shared.resources import AppResources

DESCRIPTION = """
The payments service of the fintech stage: customers, their wallets and the money they
move. Sign up at `/auth/register`, get a token at `/auth/login`, send it as
`Authorization: Bearer <token>`, open a wallet (`POST /wallet`), then top it up, send
money to another wallet or pay it out. Every money-moving request needs an
`Idempotency-Key` header: sent again with the same key, it answers what the first one did
and never moves the money twice. Balances are kept by the ledger, asked over gRPC.
"""

SERVICE_NAME = "payments"


def create_app(
    settings: Settings | None = None, *, tracer_provider: tracing.TracerProvider | None = None
) -> FastAPI:
    settings = settings or get_settings()
    tracer_provider = tracer_provider or tracing.tracer_provider_from_settings(SERVICE_NAME)
    resources = AppResources(Database.from_settings(settings), redis_url=settings.redis_url)
    ledger = LedgerClient(settings)
    resources.close_at_shutdown(ledger.aclose)
    app = create_base_app(
        settings,
        title="Payments",
        description=DESCRIPTION,
        routers=[customers_router, wallets_router, payments_router, reviews_router],
        resources=resources,
        tracer_provider=tracer_provider,
    )
    signer = settings.token_signer()
    app.state.token_signer = signer
    app.state.token_verifier = signer.verifier()
    app.state.rate_limiter = RateLimiter(
        resources.redis, prefix="payments:ratelimit", breaker=resources.redis_breaker
    )
    app.state.ledger = ledger
    return app

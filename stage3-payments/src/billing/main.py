"""The app factory: accounts, organisations, payments and refunds, subscriptions and their
entitlements, projects, and the Stripe webhook endpoint."""

from fastapi import FastAPI

from billing.config import Settings, get_settings
from billing.organizations.router import router as organizations_router
from billing.payments.router import prices_router
from billing.payments.router import router as payments_router
from billing.projects.router import router as projects_router
from billing.stripe_gateway import StripeGateway
from billing.subscriptions.router import plans_router
from billing.subscriptions.router import router as subscriptions_router
from billing.users.router import router as users_router
from billing.webhooks.router import router as webhooks_router
from roadmap_shared.app import create_app as create_base_app
from roadmap_shared.database import Database
from roadmap_shared.ratelimit import RateLimiter
from roadmap_shared.resources import AppResources

DESCRIPTION = """
Multi-tenant billing on Stripe: organisations with owners, admins and members; one-off
payments (credits) and refunds; subscriptions whose state decides what an organisation may
do; and `POST /webhooks/stripe`, where Stripe's signed events are stored once and processed
by the worker (`python -m billing.worker`). Sign in with `POST /users/login` and send
`Authorization: Bearer <token>`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Reads need a transaction too: the tenant's row-level security settings last for one.
    database = Database.from_settings(settings, reads_in_transaction=True)
    resources = AppResources(database, redis_url=settings.redis_url)
    gateway = StripeGateway(settings)
    resources.close_at_shutdown(gateway.close)
    app = create_base_app(
        settings,
        title="Billing",
        description=DESCRIPTION,
        routers=[
            users_router,
            organizations_router,
            prices_router,
            plans_router,
            payments_router,
            subscriptions_router,
            projects_router,
            webhooks_router,
        ],
        resources=resources,
    )
    app.state.token_codec = settings.token_codec()
    app.state.stripe_gateway = gateway
    app.state.rate_limiter = RateLimiter(
        resources.redis, prefix="billing:ratelimit", breaker=resources.redis_breaker
    )
    return app

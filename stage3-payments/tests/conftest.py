import pytest
import stripe
from fastapi import FastAPI
from redis.asyncio import Redis

from billing.config import Settings
from billing.main import create_app
from roadmap_shared.testing.factories import settings_for_tests
from roadmap_shared.testing.stripe_fixtures import (  # noqa: F401  (pytest collects them)
    localstripe_url,
    stripe_double,
)

# A test secret key: the stand-ins accept any key of this shape, Stripe would refuse it.
STRIPE_API_KEY = "sk_test_billing"

WEBHOOK_SECRET = "whsec_test_current_secret_0123456789"
PREVIOUS_WEBHOOK_SECRET = "whsec_test_previous_secret_0123456789"


def make_settings(database_url: str, redis_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "redis_url": redis_url,
        "stripe_api_key": STRIPE_API_KEY,
        "stripe_webhook_secrets": [WEBHOOK_SECRET, PREVIOUS_WEBHOOK_SECRET],
        "logins_per_minute_per_address": 1000,
        "logins_per_minute_per_account": 1000,
        **overrides,
    }
    return settings_for_tests(Settings, **values)


# Module-scoped, as the localstripe they point at is: each module starts on an empty one.
# (F811: a fixture imported above is requested by its name, which ruff reads as shadowing.)
@pytest.fixture(scope="module")
def settings(database_url: str, redis_url: str, localstripe_url: str) -> Settings:  # noqa: F811
    return make_settings(database_url, redis_url, stripe_api_base=localstripe_url)


@pytest.fixture
def app(settings: Settings, redis_client: Redis) -> FastAPI:
    # `redis_client` empties the suite's Redis database first: no spent rate limit leaks.
    return create_app(settings)


@pytest.fixture(scope="module")
def stripe_client(localstripe_url: str) -> stripe.StripeClient:  # noqa: F811
    """A client of our own on the emulator, standing in for Stripe.js and the dashboard:
    confirming a payment with a card, reading what Stripe has."""
    return stripe.StripeClient(
        STRIPE_API_KEY,
        base_addresses={"api": localstripe_url},
        http_client=stripe.HTTPXClient(timeout=10),
    )

from collections.abc import Iterator

import pytest
import stripe
from fastapi import FastAPI
from redis.asyncio import Redis

from billing.config import Settings
from billing.main import create_app
from roadmap_shared.testing.factories import settings_for_tests
from tests.stripe_server import API_KEY, localstripe

WEBHOOK_SECRET = "whsec_test_current_secret_0123456789"
PREVIOUS_WEBHOOK_SECRET = "whsec_test_previous_secret_0123456789"


def make_settings(database_url: str, redis_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "redis_url": redis_url,
        "stripe_api_key": API_KEY,
        "stripe_webhook_secrets": [WEBHOOK_SECRET, PREVIOUS_WEBHOOK_SECRET],
        "logins_per_minute_per_address": 1000,
        **overrides,
    }
    return settings_for_tests(Settings, **values)


@pytest.fixture(scope="session")
def stripe_api_base() -> Iterator[str]:
    with localstripe() as base:
        yield base


@pytest.fixture(scope="session")
def settings(database_url: str, redis_url: str, stripe_api_base: str) -> Settings:
    return make_settings(database_url, redis_url, stripe_api_base=stripe_api_base)


@pytest.fixture
def app(settings: Settings, redis_client: Redis) -> FastAPI:
    # `redis_client` empties the suite's Redis database first: no spent rate limit leaks.
    return create_app(settings)


@pytest.fixture(scope="session")
def stripe_client(stripe_api_base: str) -> stripe.StripeClient:
    """A client of our own on the emulator, standing in for Stripe.js and the dashboard:
    confirming a payment with a card, reading what Stripe has."""
    return stripe.StripeClient(
        API_KEY,
        base_addresses={"api": stripe_api_base},
        http_client=stripe.HTTPXClient(timeout=10),
    )

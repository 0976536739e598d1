"""The opt-in suite against Stripe's real test mode: `STRIPE_TEST_SECRET_KEY=sk_test_...`.

Without the variable every test here is skipped, saying why; with a live key (`sk_live_`)
too: this suite creates customers, charges and subscriptions, which only test mode may.
"""

import os
from collections.abc import AsyncIterator

import pytest
import stripe

from billing.config import Settings
from tests.conftest import make_settings

KEY = os.environ.get("STRIPE_TEST_SECRET_KEY", "")
STRIPE_API = "https://api.stripe.com"

if not KEY:
    SKIP_REASON = "set STRIPE_TEST_SECRET_KEY=sk_test_... (a Stripe test-mode key) to run it"
elif not KEY.startswith("sk_test_"):
    SKIP_REASON = "STRIPE_TEST_SECRET_KEY is not a test-mode key (sk_test_...): refusing it"
else:
    SKIP_REASON = ""

# Every test module here carries `pytestmark = requires_test_mode`.
requires_test_mode = pytest.mark.skipif(bool(SKIP_REASON), reason=f"real Stripe: {SKIP_REASON}")


@pytest.fixture(scope="module")
def settings(database_url: str, redis_url: str) -> Settings:
    """The app on real Stripe, in place of the suite's emulator."""
    return make_settings(database_url, redis_url, stripe_api_key=KEY, stripe_api_base=STRIPE_API)


@pytest.fixture
async def stripe_client() -> AsyncIterator[stripe.StripeClient]:
    """Ours, standing in for Stripe.js and the dashboard."""
    http = stripe.HTTPXClient(timeout=30)
    yield stripe.StripeClient(KEY, http_client=http, max_network_retries=2)
    await http.close_async()  # type: ignore[no-untyped-call]

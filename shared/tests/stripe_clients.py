"""`stripe.StripeClient`s pointed at a Stripe double or at localstripe."""

import stripe

TEST_SECRET_KEY = "sk_test_double"


def client_for(base_url: str, *, retries: int = 0, timeout: float = 10) -> stripe.StripeClient:
    # A client built without `max_network_retries` tries once: tests say what they need.
    return stripe.StripeClient(
        TEST_SECRET_KEY,
        base_addresses={"api": base_url},
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout),
    )

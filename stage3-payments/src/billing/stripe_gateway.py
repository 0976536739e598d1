"""The one module that talks to Stripe: a thin wrapper around `stripe.StripeClient`.

Why a wrapper, and not the client everywhere:
- one place sets how we call Stripe: a timeout, retries (`max_network_retries`: a client
  built without it tries once), and where Stripe is (`base_addresses`, so tests point it
  at a stand-in speaking Stripe's wire format: localstripe, or a test double);
- one place turns Stripe's errors into ours: a declined card is the customer's problem
  (402), Stripe being down or slow is not (502, or 503 with `Retry-After`), and a request
  Stripe refuses as invalid is our bug (502, logged with Stripe's message);
- every call that creates something takes an idempotency key we derived from our own row,
  so a retry (the SDK's, or ours after a crash) cannot create a second object.

The gateway returns Stripe's objects as they are (`StripeObject`s, which are dicts): the
callers read the few fields they need.
"""

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

import stripe

from billing.config import Settings
from roadmap_shared.errors import ProblemError, ServiceUnavailable

logger = logging.getLogger(__name__)

# How long a client should wait before retrying while Stripe is unavailable.
RETRY_AFTER_SECONDS = 30


class PaymentDeclined(ProblemError):
    """402: the card (or bank) said no. The customer can try another card."""

    status = HTTPStatus.PAYMENT_REQUIRED


class BadGateway(ProblemError):
    """502: Stripe answered, but not with anything we can use."""

    status = HTTPStatus.BAD_GATEWAY


@contextmanager
def stripe_errors() -> Iterator[None]:
    """Translates Stripe's exceptions raised inside the block into problem responses."""
    try:
        yield
    except stripe.CardError as declined:
        raise PaymentDeclined(
            declined.user_message or "The card was declined",
            extra={"decline_code": getattr(declined, "code", None)},
        ) from declined
    except (stripe.APIConnectionError, stripe.RateLimitError) as unavailable:
        # Already retried by the SDK (`max_network_retries`), so give the client a pause.
        logger.warning("Stripe unavailable: %s", unavailable)
        raise ServiceUnavailable(
            "The payment provider is unavailable; try again shortly",
            retry_after_seconds=RETRY_AFTER_SECONDS,
        ) from unavailable
    except stripe.StripeError as refused:
        # An invalid request, bad credentials or a 5xx from Stripe: not the client's fault.
        logger.error("Stripe refused a request: %s", refused)
        raise BadGateway("The payment provider refused the request") from refused


class StripeGateway:
    def __init__(self, settings: Settings) -> None:
        # httpx, for calls that do not block the event loop; its timeout bounds each try.
        self._http = stripe.HTTPXClient(timeout=settings.stripe_timeout_seconds)
        self._client = stripe.StripeClient(
            settings.stripe_api_key.get_secret_value(),
            base_addresses={"api": settings.stripe_api_base},
            max_network_retries=settings.stripe_max_network_retries,
            http_client=self._http,
        )

    async def create_customer(
        self, *, name: str, organization_id: int, idempotency_key: str
    ) -> str:
        with stripe_errors():
            customer = await self._client.v1.customers.create_async(
                {"name": name, "metadata": {"organization_id": str(organization_id)}},
                {"idempotency_key": idempotency_key},
            )
        return str(customer.id)

    async def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        customer: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> stripe.PaymentIntent:
        with stripe_errors():
            return await self._client.v1.payment_intents.create_async(
                {
                    "amount": amount,
                    "currency": currency,
                    "customer": customer,
                    "metadata": dict(metadata),
                },
                {"idempotency_key": idempotency_key},
            )

    async def create_checkout_session(
        self,
        *,
        amount: int,
        currency: str,
        product_name: str,
        customer: str,
        metadata: Mapping[str, str],
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
    ) -> stripe.checkout.Session:
        with stripe_errors():
            return await self._client.v1.checkout.sessions.create_async(
                {
                    "mode": "payment",
                    "customer": customer,
                    # `price_data`: our price, sent with the session, not a Price kept at
                    # Stripe that could drift from the catalogue.
                    "line_items": [
                        {
                            "price_data": {
                                "currency": currency,
                                "unit_amount": amount,
                                "product_data": {"name": product_name},
                            },
                            "quantity": 1,
                        }
                    ],
                    "metadata": dict(metadata),
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                },
                {"idempotency_key": idempotency_key},
            )

    async def retrieve_checkout_session(self, session_id: str) -> dict[str, Any]:
        """The Checkout Session as Stripe has it now, as a plain dict, as for intents."""
        with stripe_errors():
            session = await self._client.v1.checkout.sessions.retrieve_async(session_id)
        return session.to_dict()

    async def retrieve_payment_intent(self, payment_intent_id: str) -> dict[str, Any]:
        """The PaymentIntent as Stripe has it now, as a plain dict: optional fields that a
        stand-in leaves out read as missing (`.get`), not as an AttributeError."""
        with stripe_errors():
            intent = await self._client.v1.payment_intents.retrieve_async(payment_intent_id)
        return intent.to_dict()

    async def create_refund(
        self,
        *,
        payment_intent: str,
        amount: int,
        reason: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> stripe.Refund:
        # The reason travels in metadata: Stripe's own `reason` parameter is not accepted by
        # the emulator the tests run against (see the README's "Not yet built").
        with stripe_errors():
            return await self._client.v1.refunds.create_async(
                {
                    "payment_intent": payment_intent,
                    "amount": amount,
                    "metadata": {**metadata, "reason": reason},
                },
                {"idempotency_key": idempotency_key},
            )

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

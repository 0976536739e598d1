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
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any, Literal

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


class StripeRefused(BadGateway):
    """502, when Stripe said no to the request itself (a 4xx): nothing was created there,
    so what we reserved for it can be given back. (After a 5xx or no answer at all, it may
    have been: only Stripe's later word settles it.)"""


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
    except stripe.InvalidRequestError as refused:
        logger.error("Stripe refused a request: %s", refused)
        raise StripeRefused("The payment provider refused the request") from refused
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
        payment_intent_metadata: Mapping[str, str],
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
                    # Copied onto the PaymentIntent that the session makes once paid: what
                    # later names only the intent (a dispute, a refund) still finds our row.
                    "payment_intent_data": {"metadata": dict(payment_intent_metadata)},
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
        """`reason` is one of Stripe's own (`duplicate`, `fraudulent`,
        `requested_by_customer`); anything of ours travels in `metadata`."""
        with stripe_errors():
            return await self._client.v1.refunds.create_async(
                {
                    "payment_intent": payment_intent,
                    "amount": amount,
                    "reason": reason,
                    "metadata": dict(metadata),
                },
                {"idempotency_key": idempotency_key},
            )

    async def create_subscription_checkout(
        self,
        *,
        price: str,
        quantity: int,
        trial_days: int,
        customer: str,
        metadata: Mapping[str, str],
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
    ) -> stripe.checkout.Session:
        """A Checkout Session that starts a subscription to `price` once the customer pays
        (or, with a trial, once a card is saved). `metadata` is copied to the subscription,
        where the webhook handlers read which organisation and plan it is."""
        subscription_data: stripe.params.checkout.SessionCreateParamsSubscriptionData = {
            "metadata": dict(metadata)
        }
        if trial_days > 0:
            subscription_data["trial_period_days"] = trial_days
        with stripe_errors():
            return await self._client.v1.checkout.sessions.create_async(
                {
                    "mode": "subscription",
                    "customer": customer,
                    "line_items": [{"price": price, "quantity": quantity}],
                    "subscription_data": subscription_data,
                    "metadata": dict(metadata),
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                },
                {"idempotency_key": idempotency_key},
            )

    async def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]:
        with stripe_errors():
            subscription = await self._client.v1.subscriptions.retrieve_async(subscription_id)
        return subscription.to_dict()

    async def change_subscription_item(
        self,
        subscription_id: str,
        *,
        item_id: str,
        price: str,
        quantity: int,
        proration_behavior: Literal["always_invoice", "create_prorations"],
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> None:
        """Moves the subscription's one item to another Price or quantity. The metadata
        (plan, interval) changes in the same request, so no event shows one without the
        other."""
        with stripe_errors():
            await self._client.v1.subscriptions.update_async(
                subscription_id,
                {
                    "items": [{"id": item_id, "price": price, "quantity": quantity}],
                    "proration_behavior": proration_behavior,
                    "metadata": dict(metadata),
                },
                {"idempotency_key": idempotency_key},
            )

    async def set_cancel_at_period_end(
        self, subscription_id: str, *, cancel: bool, idempotency_key: str
    ) -> None:
        with stripe_errors():
            await self._client.v1.subscriptions.update_async(
                subscription_id,
                {"cancel_at_period_end": cancel},
                {"idempotency_key": idempotency_key},
            )

    async def create_billing_portal_session(self, *, customer: str, return_url: str) -> str:
        """The URL of a short-lived Billing Portal page for the customer. No idempotency
        key: a second session is harmless, and a replayed one could have expired."""
        with stripe_errors():
            portal = await self._client.v1.billing_portal.sessions.create_async(
                {"customer": customer, "return_url": return_url}
            )
        return str(portal.url)

    async def balance_transactions(
        self, *, created_from: int, created_before: int
    ) -> AsyncIterator[dict[str, Any]]:
        """Every balance transaction created in [created_from, created_before) (Unix
        seconds), newest first, page after page. `source` is expanded: a charge's names the
        PaymentIntent our payment row knows."""
        with stripe_errors():
            page = await self._client.v1.balance_transactions.list_async(
                {
                    "created": {"gte": created_from, "lt": created_before},
                    "limit": 100,
                    "expand": ["data.source"],
                }
            )
            async for transaction in page.auto_paging_iter():
                yield transaction.to_dict()

    async def retrieve_refund(self, refund_id: str) -> dict[str, Any]:
        """The refund as Stripe has it now, as a plain dict."""
        with stripe_errors():
            refund = await self._client.v1.refunds.retrieve_async(refund_id)
        return refund.to_dict()

    async def list_refunds(self, charge_id: str) -> list[dict[str, Any]]:
        """Every refund of the charge as Stripe has them now (failed ones included, which
        the charge's own copy leaves out)."""
        with stripe_errors():
            page = await self._client.v1.refunds.list_async({"charge": charge_id, "limit": 100})
            return [refund.to_dict() async for refund in page.auto_paging_iter()]

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

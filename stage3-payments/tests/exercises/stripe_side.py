"""Stripe's side of the exercises that run on the shared Stripe double: events delivered
signed through the real endpoint, the worker run once, and what the customer does."""

from typing import Any

import stripe
from httpx import AsyncClient

from billing.config import Settings
from billing.worker import Context, _shutdown, _startup, process_inbox
from roadmap_shared.testing.stripe_double import StripeDouble
from tests.conftest import STRIPE_API_KEY, WEBHOOK_SECRET
from tests.factories import Tenant


class StripeSide:
    """Stripe's side, as the tests drive it: events delivered signed, then the worker."""

    def __init__(self, client: AsyncClient, double: StripeDouble, settings: Settings) -> None:
        self.client, self.double, self.settings = client, double, settings

    async def deliver(self, event: dict[str, Any]) -> None:
        payload, signature = StripeDouble.sign(event, WEBHOOK_SECRET)
        response = await self.client.post(
            "/webhooks/stripe",
            content=payload,
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        )
        assert response.status_code == 200, response.text

    async def run_worker(self) -> None:
        ctx: Context = {"settings": self.settings}
        await _startup(ctx)
        try:
            await process_inbox(ctx)
        finally:
            await _shutdown(ctx)

    def last_event(self, event_type: str, object_id: str) -> dict[str, Any]:
        return next(
            event
            for event in reversed(self.double.events(event_type))
            if event["data"]["object"]["id"] == object_id
        )

    async def confirm_with_card(self, payment: dict[str, Any]) -> None:
        """What Stripe.js does in the customer's browser."""
        customer = stripe.StripeClient(STRIPE_API_KEY, base_addresses={"api": self.double.base_url})
        await customer.v1.payment_intents.confirm_async(
            payment["stripe_payment_intent_id"], {"payment_method": "pm_card_visa"}
        )

    async def pay(self, tenant: Tenant) -> dict[str, Any]:
        """A payment confirmed with a card, fulfilled by the worker."""
        response = await self.client.post(
            f"/organizations/{tenant.id}/payments",
            json={"product": "credits_500"},
            headers=tenant.owner,
        )
        assert response.status_code == 201, response.text
        payment: dict[str, Any] = response.json()
        await self.confirm_with_card(payment)
        await self.deliver(
            self.last_event("payment_intent.succeeded", payment["stripe_payment_intent_id"])
        )
        await self.run_worker()
        return await self.payment(tenant, payment["id"])

    async def payment(self, tenant: Tenant, payment_id: int) -> dict[str, Any]:
        url = f"/organizations/{tenant.id}/payments/{payment_id}"
        response = await self.client.get(url, headers=tenant.owner)
        assert response.status_code == 200, response.text
        payment: dict[str, Any] = response.json()
        return payment

    def open_dispute(self, payment: dict[str, Any]) -> dict[str, Any]:
        charge = self.double.get(payment["stripe_payment_intent_id"])["latest_charge"]
        return self.double.open_dispute(charge)

    async def subscribe(self, tenant: Tenant) -> None:
        """The pro plan bought through the API's Checkout, paid at Stripe, applied by the
        worker from the events Stripe sends."""
        before = len(self.double.events())
        response = await self.client.post(
            f"/organizations/{tenant.id}/subscription/checkout",
            json={"plan": "pro"},
            headers=tenant.owner,
        )
        assert response.status_code == 201, response.text
        self.double.complete_checkout_session(response.json()["stripe_checkout_session_id"])
        for event in self.double.events()[before:]:
            await self.deliver(event)
        await self.run_worker()

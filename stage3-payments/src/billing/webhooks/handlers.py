"""What each Stripe event changes. Run by the worker, one event per transaction.

Events arrive late, twice and out of order, so no handler trusts the order it sees them in:
- payments: the handler fetches the PaymentIntent's (or the Checkout Session's) current
  state from Stripe and applies that, whatever the event's own copy said; an update that
  would move a payment backwards (succeeded to failed) matches no row;
- subscriptions: the handler applies the event's copy only if it is newer (`created`)
  than the last event applied to that subscription.
A handler that raises is retried by the worker with backoff (Stripe down, a bug fixed).

Every handler scopes its transaction to the organisation the object names before touching
tenant data: the worker is bound by the same row-level security as the API.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from billing.models import Organization, Payment, PaymentStatus, SubscriptionStatus
from billing.payments.catalogue import PRICES, Product
from billing.stripe_gateway import StripeGateway
from billing.subscriptions import repository as subscriptions
from billing.tenancy import act_for_organization

Event = dict[str, Any]
Handler = Callable[[AsyncSession, StripeGateway, Event], Awaitable[None]]


def _organization_in(metadata: Any) -> int | None:
    value = metadata.get("organization_id") if isinstance(metadata, dict) else None
    return int(value) if isinstance(value, str) and value.isdigit() else None


async def _organization_of_customer(session: AsyncSession, customer: Any) -> int | None:
    if not isinstance(customer, str):
        return None
    return await session.scalar(
        select(Organization.id).where(Organization.stripe_customer_id == customer)
    )


# --- one-off payments -------------------------------------------------------------------


UNFINISHED = Payment.status.in_([PaymentStatus.PENDING, PaymentStatus.FAILED])


async def _fulfil(
    session: AsyncSession, ours: ColumnElement[bool], amount_captured: int, **more: Any
) -> None:
    product = await session.scalar(select(Payment.product).where(ours))
    credits = PRICES[Product(product)].credits if product in set(Product) else 0
    # From unfinished to succeeded once: the credits are granted by the same UPDATE that
    # moves the status, so a second delivery (or a retry) grants nothing.
    await session.execute(
        update(Payment)
        .where(ours, UNFINISHED)
        .values(
            status=PaymentStatus.SUCCEEDED,
            amount_captured=amount_captured,
            credits_granted=credits,
            **more,
        )
    )


async def sync_payment_intent(session: AsyncSession, gateway: StripeGateway, event: Event) -> None:
    intent = await gateway.retrieve_payment_intent(event["data"]["object"]["id"])
    metadata = intent.get("metadata") or {}
    organization_id = _organization_in(metadata)
    payment_id = str(metadata.get("payment_id"))
    if organization_id is None or not payment_id.isdigit():
        return  # not one of ours (another integration on the same account)
    await act_for_organization(session, organization_id)
    ours = (Payment.organization_id == organization_id) & (Payment.id == int(payment_id))
    if intent.get("status") == "succeeded":
        await _fulfil(
            session, ours, amount_captured=intent.get("amount_received") or intent["amount"]
        )
    elif intent.get("status") == "canceled":
        await session.execute(
            update(Payment).where(ours, UNFINISHED).values(status=PaymentStatus.CANCELED)
        )
    elif intent.get("status") == "requires_payment_method" and intent.get("last_payment_error"):
        await session.execute(
            update(Payment)
            .where(ours, Payment.status == PaymentStatus.PENDING)
            .values(status=PaymentStatus.FAILED)
        )


async def sync_checkout_session(
    session: AsyncSession, gateway: StripeGateway, event: Event
) -> None:
    checkout = await gateway.retrieve_checkout_session(event["data"]["object"]["id"])
    metadata = checkout.get("metadata") or {}
    organization_id = _organization_in(metadata)
    payment_id = str(metadata.get("payment_id"))
    if organization_id is None or not payment_id.isdigit():
        return  # not one of ours
    await act_for_organization(session, organization_id)
    # The session we created for this row, not any session whose metadata names it: one
    # made elsewhere, for a cent, with our ids in its metadata, pays for nothing of ours.
    ours = (
        (Payment.organization_id == organization_id)
        & (Payment.id == int(payment_id))
        & (Payment.stripe_checkout_session_id == checkout["id"])
    )
    if checkout.get("status") == "complete" and checkout.get("payment_status") == "paid":
        await _fulfil(
            session,
            ours,
            amount_captured=int(checkout["amount_total"]),
            # Refunds go through the PaymentIntent, which exists only once paid.
            stripe_payment_intent_id=checkout.get("payment_intent"),
        )
    elif checkout.get("status") == "expired":
        await session.execute(
            update(Payment)
            .where(ours, Payment.status == PaymentStatus.PENDING)
            .values(status=PaymentStatus.CANCELED)
        )


async def freeze_after_dispute(session: AsyncSession, gateway: StripeGateway, event: Event) -> None:
    payment_intent = event["data"]["object"].get("payment_intent")
    if not isinstance(payment_intent, str):
        return
    intent = await gateway.retrieve_payment_intent(payment_intent)
    organization_id = _organization_in(intent.get("metadata") or {})
    if organization_id is not None:
        await act_for_organization(session, organization_id)
        await subscriptions.freeze_for_dispute(session, organization_id)


# --- subscriptions ----------------------------------------------------------------------


def _timestamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else None


async def sync_subscription(session: AsyncSession, gateway: StripeGateway, event: Event) -> None:
    subscription = event["data"]["object"]
    metadata = subscription.get("metadata") or {}
    organization_id = _organization_in(metadata) or await _organization_of_customer(
        session, subscription.get("customer")
    )
    if organization_id is None:
        return
    await act_for_organization(session, organization_id)
    status = subscription.get("status")
    if event["type"] == "customer.subscription.deleted":
        status = SubscriptionStatus.CANCELED.value
    await subscriptions.apply_state(
        session,
        event_created=int(event["created"]),
        values={
            "organization_id": organization_id,
            "stripe_subscription_id": subscription["id"],
            "plan": metadata.get("plan", "free"),
            "interval": metadata.get("interval", "month"),
            "status": SubscriptionStatus(status),
            "seats": max(1, int(subscription.get("quantity") or 1)),
            "cancel_at_period_end": bool(subscription.get("cancel_at_period_end")),
            "current_period_end": _timestamp(subscription.get("current_period_end")),
        },
    )


async def sync_invoice(session: AsyncSession, gateway: StripeGateway, event: Event) -> None:
    invoice = event["data"]["object"]
    subscription_id = invoice.get("subscription")
    organization_id = await _organization_of_customer(session, invoice.get("customer"))
    if not isinstance(subscription_id, str) or organization_id is None:
        return
    await act_for_organization(session, organization_id)
    created = int(event["created"])
    if event["type"] == "invoice.paid":
        await subscriptions.mark_paid(session, subscription_id, event_created=created)
    else:
        await subscriptions.mark_payment_failed(
            session, subscription_id, event_created=created, at=datetime.fromtimestamp(created, UTC)
        )


HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": sync_payment_intent,
    "payment_intent.payment_failed": sync_payment_intent,
    "payment_intent.canceled": sync_payment_intent,
    "checkout.session.completed": sync_checkout_session,
    "checkout.session.expired": sync_checkout_session,
    "charge.dispute.created": freeze_after_dispute,
    "customer.subscription.created": sync_subscription,
    "customer.subscription.updated": sync_subscription,
    "customer.subscription.deleted": sync_subscription,
    "invoice.paid": sync_invoice,
    "invoice.payment_failed": sync_invoice,
}


async def handle(session: AsyncSession, gateway: StripeGateway, event: Event) -> None:
    handler = HANDLERS.get(str(event.get("type")))
    if handler is not None:  # other types are acknowledged and recorded, nothing more
        await handler(session, gateway, event)

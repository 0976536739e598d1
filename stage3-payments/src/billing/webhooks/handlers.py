"""What each Stripe event changes. Run by the worker, one event per transaction.

Events arrive late, twice and out of order, so no handler trusts the order it sees them in:
- payments and refunds: the handler fetches the PaymentIntent's (the Checkout Session's,
  the refund's) current state from Stripe and applies that, whatever the event's own copy
  said; an update that would move a payment backwards (succeeded to failed) matches no row,
  and a refund is settled by conditional updates that apply once (payments.settlement);
- subscriptions: the handler applies the event's copy only if it is newer (`created`)
  than the last event applied to that subscription.
A handler that raises is retried by the worker with backoff (Stripe down, a bug fixed).

What owners must hear of (a receipt, a failed payment, a dispute) is written to the outbox
in the handler's transaction, and only by the update that made the change: the email
goes out if and only if the change commits, and once however often the event arrives.

Every handler scopes its transaction to the organisation the object names before touching
tenant data: the worker is bound by the same row-level security as the API.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from billing.models import (
    Organization,
    OutboxMessage,
    Payment,
    PaymentStatus,
    Refund,
    SubscriptionStatus,
)
from billing.payments import settlement
from billing.payments.catalogue import PRICES, Product
from billing.plans import Interval, PaidPlan
from billing.stripe_gateway import StripeGateway
from billing.subscriptions import repository as subscriptions
from billing.tenancy import act_for_organization
from roadmap_shared import outbox

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


def _tell_owners(session: AsyncSession, task: str, **arguments: int | str) -> None:
    outbox.add(session, OutboxMessage, task, **arguments)


async def _fulfil(
    session: AsyncSession, ours: ColumnElement[bool], amount_captured: int, **more: Any
) -> None:
    product = await session.scalar(select(Payment.product).where(ours))
    credits = PRICES[Product(product)].credits if product in set(Product) else 0
    # From unfinished to succeeded once: the credits are granted by the same UPDATE that
    # moves the status, so a second delivery (or a retry) grants nothing, and sends no
    # second receipt.
    fulfilled = await session.execute(
        update(Payment)
        .where(ours, UNFINISHED)
        .values(
            status=PaymentStatus.SUCCEEDED,
            amount_captured=amount_captured,
            credits_granted=credits,
            **more,
        )
        .returning(Payment.organization_id, Payment.id)
    )
    if (row := fulfilled.one_or_none()) is not None:
        _tell_owners(
            session, "send_payment_receipt", organization_id=row.organization_id, payment_id=row.id
        )


async def _fail(session: AsyncSession, ours: ColumnElement[bool]) -> None:
    failed = await session.execute(
        update(Payment)
        .where(ours, Payment.status == PaymentStatus.PENDING)
        .values(status=PaymentStatus.FAILED)
        .returning(Payment.organization_id, Payment.id)
    )
    if (row := failed.one_or_none()) is not None:
        _tell_owners(
            session, "send_payment_failed", organization_id=row.organization_id, payment_id=row.id
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
    # A Checkout payment's intent carries our ids too (for disputes and refunds), but its
    # row is settled by the session's events, which check that it is the very session.
    ours &= Payment.stripe_checkout_session_id.is_(None)
    # The intent made for this row, not any intent whose metadata names it: the one the row
    # records or, if the answer that named it was lost, one for our very amount and
    # currency. One made elsewhere, for a cent, with our ids in its metadata, pays nothing.
    ours &= (Payment.stripe_payment_intent_id == intent["id"]) | (
        Payment.stripe_payment_intent_id.is_(None)
        & (Payment.amount == intent.get("amount"))
        & (Payment.currency == intent.get("currency"))
    )
    if intent.get("status") == "succeeded":
        await _fulfil(
            session,
            ours,
            amount_captured=intent.get("amount_received") or intent["amount"],
            # Recorded if the answer that named it was lost: refunds go through it.
            stripe_payment_intent_id=intent["id"],
        )
    elif intent.get("status") == "canceled":
        await session.execute(
            update(Payment).where(ours, UNFINISHED).values(status=PaymentStatus.CANCELED)
        )
    elif intent.get("status") == "requires_payment_method" and intent.get("last_payment_error"):
        await _fail(session, ours)


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
    completed = checkout.get("status") == "complete"
    if completed and checkout.get("payment_status") == "paid":
        # `completed`, or `async_payment_succeeded` for a payment method that settles later
        # (a bank debit): either way, paid is what Stripe says now.
        await _fulfil(
            session,
            ours,
            amount_captured=int(checkout["amount_total"]),
            # Refunds go through the PaymentIntent, which exists only once paid.
            stripe_payment_intent_id=checkout.get("payment_intent"),
        )
    elif completed and event["type"] == "checkout.session.async_payment_failed":
        # Completed but never paid: the delayed payment failed. A session that failed so
        # is never paid later (the customer starts another), so this cannot undo a payment.
        await _fail(session, ours)
    elif checkout.get("status") == "expired":
        await session.execute(
            update(Payment)
            .where(ours, Payment.status == PaymentStatus.PENDING)
            .values(status=PaymentStatus.CANCELED)
        )


async def sync_refunds(session: AsyncSession, gateway: StripeGateway, event: Event) -> None:
    """`refund.updated` names one refund, `charge.refunded` a charge: each refund of ours
    is read again from Stripe and settled from what Stripe says now."""
    obj = event["data"]["object"]
    if event["type"] == "charge.refunded":
        stripe_refunds = await gateway.list_refunds(obj["id"])
    else:
        stripe_refunds = [await gateway.retrieve_refund(obj["id"])]
    for stripe_refund in stripe_refunds:
        await _settle_refund(session, stripe_refund)


async def _settle_refund(session: AsyncSession, stripe_refund: dict[str, Any]) -> None:
    metadata = stripe_refund.get("metadata") or {}
    organization_id = _organization_in(metadata)
    refund_id = str(metadata.get("refund_id"))
    if organization_id is None or not refund_id.isdigit():
        return  # made elsewhere (the dashboard), not through us
    await act_for_organization(session, organization_id)
    # The refund we asked for, of that very payment: a refund made elsewhere with our ids
    # in its metadata settles nothing of ours.
    ours = await session.scalar(
        select(Refund.id)
        .join(Payment, Payment.id == Refund.payment_id)
        .where(
            Refund.organization_id == organization_id,
            Refund.id == int(refund_id),
            Payment.stripe_payment_intent_id == stripe_refund.get("payment_intent"),
            Refund.stripe_refund_id.is_(None) | (Refund.stripe_refund_id == stripe_refund["id"]),
        )
    )
    if ours is not None:
        await settlement.settle_refund(session, ours, stripe_refund)


async def freeze_after_dispute(session: AsyncSession, gateway: StripeGateway, event: Event) -> None:
    dispute = event["data"]["object"]
    payment_intent = dispute.get("payment_intent")
    if not isinstance(payment_intent, str):
        return
    intent = await gateway.retrieve_payment_intent(payment_intent)
    metadata = intent.get("metadata") or {}
    organization_id = _organization_in(metadata)
    if organization_id is None:
        return
    await act_for_organization(session, organization_id)
    # A payment of ours that this very intent paid: an intent made elsewhere, whose metadata
    # names one of our organisations, freezes nothing and alerts no one.
    payment_id = await session.scalar(
        select(Payment.id).where(
            Payment.organization_id == organization_id,
            Payment.stripe_payment_intent_id == payment_intent,
        )
    )
    if payment_id is None:
        return
    await subscriptions.freeze_for_dispute(session, organization_id)
    # The inbox handles each event once, and Stripe sends one `created` per dispute.
    _tell_owners(
        session,
        "send_dispute_alert",
        organization_id=organization_id,
        payment_id=payment_id,
        dispute_id=str(dispute["id"]),
    )


# --- subscriptions ----------------------------------------------------------------------


def _timestamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else None


def _seats_and_period(subscription: dict[str, Any]) -> dict[str, Any]:
    """The quantity paid for and the period's end. Stripe's current API keeps them on the
    subscription's item (the period moved there in version 2025-03-31.basil); events of
    older API versions carry them on the subscription itself."""
    items = (subscription.get("items") or {}).get("data") or []
    item = items[0] if items and isinstance(items[0], dict) else {}
    return {key: item.get(key, subscription.get(key)) for key in ("quantity", "current_period_end")}


async def sync_subscription(session: AsyncSession, gateway: StripeGateway, event: Event) -> None:
    subscription = event["data"]["object"]
    metadata = subscription.get("metadata") or {}
    # The organisation whose Stripe customer pays, the link our rows hold: metadata naming
    # another organisation (a subscription made in the dashboard, or by another
    # integration), or a customer we do not know, grants nothing to anyone.
    organization_id = await _organization_of_customer(session, subscription.get("customer"))
    if organization_id is None or _organization_in(metadata) not in (None, organization_id):
        return
    await act_for_organization(session, organization_id)
    status = subscription.get("status")
    billed = _seats_and_period(subscription)
    # Only a plan and an interval we sell, as our requests write them: metadata written
    # elsewhere (the dashboard) grants nothing, rather than a plan no code path knows.
    plan, interval = metadata.get("plan"), metadata.get("interval", Interval.MONTH.value)
    if plan not in set(PaidPlan) or interval not in set(Interval):
        plan, interval = "free", Interval.MONTH.value
    if event["type"] == "customer.subscription.deleted":
        status = SubscriptionStatus.CANCELED.value
    await subscriptions.apply_state(
        session,
        event_created=int(event["created"]),
        values={
            "organization_id": organization_id,
            "stripe_subscription_id": subscription["id"],
            "plan": plan,
            "interval": interval,
            "status": SubscriptionStatus(status),
            "seats": max(1, int(billed["quantity"] or 1)),
            "cancel_at_period_end": bool(subscription.get("cancel_at_period_end")),
            "current_period_end": _timestamp(billed["current_period_end"]),
        },
    )


def _subscription_of_invoice(invoice: dict[str, Any]) -> Any:
    """Where the invoice names its subscription: under `parent` since API version
    2025-03-31.basil (the version our SDK pins), at the top in events of older versions."""
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    if isinstance(details, dict) and details.get("subscription"):
        return details["subscription"]
    return invoice.get("subscription")


async def sync_invoice(session: AsyncSession, gateway: StripeGateway, event: Event) -> None:
    invoice = event["data"]["object"]
    subscription_id = _subscription_of_invoice(invoice)
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
    "checkout.session.async_payment_succeeded": sync_checkout_session,
    "checkout.session.async_payment_failed": sync_checkout_session,
    "charge.refunded": sync_refunds,
    "refund.updated": sync_refunds,
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

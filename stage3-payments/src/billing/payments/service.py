"""One-off payments and their refunds.

Paying: our row first (its id becomes the idempotency key), then the PaymentIntent, with
the amount and currency of our price list. The client confirms it with Stripe.js; the
payment counts as paid (and credits are granted) only when the worker processes Stripe's
verified `payment_intent.succeeded`, never because a client says so.

Paying on Stripe's hosted page (Checkout): the same row first, then a Checkout Session
with our price and an idempotency key from the row; the client is sent to the session's
URL. The payment is fulfilled only by the worker, on a verified `checkout.session.completed`
whose session, read again from Stripe, says paid: never by the customer's return to the
success URL.

Refunding: the payment's row is locked, its refunded total raised in SQL (a CHECK
constraint bounds it by the captured amount), then Stripe is asked, in the same
transaction. Two refunds at once are serialised by the row lock: the second sees the
first's total and, if it would exceed what was captured, gets 409.
"""

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.config import Settings
from billing.models import (
    Membership,
    Organization,
    Payment,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
)
from billing.payments import repository
from billing.payments.catalogue import PRICES, Product
from billing.stripe_gateway import StripeGateway
from roadmap_shared.errors import Conflict, NotFound


def payment_idempotency_key(payment: Payment) -> str:
    return f"payment-{payment.id}"


def checkout_idempotency_key(payment: Payment) -> str:
    return f"payment-{payment.id}-checkout"


def refund_idempotency_key(refund: Refund) -> str:
    return f"refund-{refund.id}"


async def ensure_customer(
    session: AsyncSession, gateway: StripeGateway, organization: Organization
) -> str:
    if organization.stripe_customer_id is None:
        # Keyed by our organisation: two first payments at once make one customer.
        organization.stripe_customer_id = await gateway.create_customer(
            name=organization.name,
            organization_id=organization.id,
            idempotency_key=f"organization-{organization.id}-customer",
        )
        await session.flush()
    return organization.stripe_customer_id


async def start_payment(
    session: AsyncSession,
    gateway: StripeGateway,
    *,
    buyer: Membership,
    organization: Organization,
    product: Product,
) -> Payment:
    price = PRICES[product]
    payment = Payment(
        organization_id=organization.id,
        created_by=buyer.user_id,
        product=product.value,
        amount=price.amount,
        currency=price.currency,
    )
    session.add(payment)
    await session.flush()  # the id, and so the idempotency key, exist before the call
    customer = await ensure_customer(session, gateway, organization)
    intent = await gateway.create_payment_intent(
        amount=price.amount,
        currency=price.currency,
        customer=customer,
        # What the webhook handler needs to find our row without trusting anything else.
        metadata={"organization_id": str(organization.id), "payment_id": str(payment.id)},
        idempotency_key=payment_idempotency_key(payment),
    )
    payment.stripe_payment_intent_id = intent.id
    payment.client_secret = intent.client_secret
    await session.flush()
    return payment


async def start_checkout(
    session: AsyncSession,
    gateway: StripeGateway,
    settings: Settings,
    *,
    buyer: Membership,
    organization: Organization,
    product: Product,
) -> tuple[Payment, str]:
    """Our payment row and the URL of Stripe's hosted page where the customer pays it."""
    price = PRICES[product]
    payment = Payment(
        organization_id=organization.id,
        created_by=buyer.user_id,
        product=product.value,
        amount=price.amount,
        currency=price.currency,
    )
    session.add(payment)
    await session.flush()  # the id, and so the idempotency key, exist before the call
    customer = await ensure_customer(session, gateway, organization)
    checkout = await gateway.create_checkout_session(
        amount=price.amount,
        currency=price.currency,
        product_name=f"{price.credits} credits",
        customer=customer,
        # Read back from the session by the webhook handler, to find our row.
        metadata={"organization_id": str(organization.id), "payment_id": str(payment.id)},
        success_url=settings.checkout_success_url,
        cancel_url=settings.checkout_cancel_url,
        idempotency_key=checkout_idempotency_key(payment),
    )
    payment.stripe_checkout_session_id = checkout.id
    await session.flush()
    return payment, str(checkout.url)


async def refund(
    session: AsyncSession,
    gateway: StripeGateway,
    *,
    requester: Membership,
    payment_id: int,
    amount: int | None,
    reason: RefundReason,
) -> Refund:
    organization_id = requester.organization_id
    payment = await repository.lock(session, organization_id, payment_id)
    if payment is None:
        raise NotFound("No such payment")
    if payment.status is not PaymentStatus.SUCCEEDED or payment.stripe_payment_intent_id is None:
        raise Conflict("Only a payment that succeeded can be refunded")
    refunded = payment.amount_captured - payment.amount_refunded if amount is None else amount
    if refunded <= 0:
        raise Conflict("Nothing is left to refund")
    try:
        async with session.begin_nested():
            await repository.add_refunded(session, payment.id, refunded)
    except IntegrityError as exceeded:
        raise Conflict("The refunds would exceed what was captured") from exceeded
    refund = Refund(
        organization_id=organization_id,
        payment_id=payment.id,
        requested_by=requester.user_id,
        amount=refunded,
        reason=reason,
    )
    session.add(refund)
    await session.flush()
    # Still holding the payment's row lock: a concurrent refund waits for this answer.
    stripe_refund = await gateway.create_refund(
        payment_intent=payment.stripe_payment_intent_id,
        amount=refunded,
        reason=reason.value,
        metadata={"organization_id": str(organization_id), "refund_id": str(refund.id)},
        idempotency_key=refund_idempotency_key(refund),
    )
    refund.stripe_refund_id = stripe_refund.id
    if stripe_refund.status == "succeeded":
        refund.status = RefundStatus.SUCCEEDED
    await session.flush()
    return refund

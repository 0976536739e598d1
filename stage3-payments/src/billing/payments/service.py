"""One-off payments and their refunds.

Paying: our row first, committed in a transaction of its own together with the
idempotency key derived from its id; then the PaymentIntent, with the amount and currency
of our price list, under that key. A request that fails after Stripe acted (no answer in
time, a crash) leaves a pending row whose key is known: `resume_payment` asks again with
the same key and Stripe answers with the intent it already made. The client confirms the
intent with Stripe.js; the payment counts as paid (and credits are granted) only when the
worker processes Stripe's verified `payment_intent.succeeded`, never because a client
says so.

Paying on Stripe's hosted page (Checkout): the same committed row first, then a Checkout
Session with our price and a key from the row; the client is sent to the session's URL.
Our ids travel in the session's metadata and in the metadata of the PaymentIntent it
makes once paid. The payment is fulfilled only by the worker, on a verified
`checkout.session.completed` whose session, read again from Stripe, says paid: never by
the customer's return to the success URL.

Refunding: the payment's row is locked, its refunded total raised in SQL (a CHECK
constraint bounds it by the captured amount) and a pending refund written, all committed
before Stripe is asked: two refunds at once are serialised by the row lock, and the second,
if it would exceed what was captured, gets 409. Stripe's answer settles the refund
(`payments.settlement`); a refund left pending (Stripe did not answer in time) is settled
by its `refund.updated` or `charge.refunded` event, and one Stripe refused gives its
amount back.
"""

from collections.abc import Callable

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.config import Settings
from billing.models import (
    Membership,
    Organization,
    Payment,
    PaymentStatus,
    Refund,
    RefundReason,
)
from billing.payments import repository, settlement
from billing.payments.catalogue import PRICES, Product
from billing.stripe_gateway import StripeGateway, StripeRefused
from billing.tenancy import act_for_organization
from roadmap_shared.errors import Conflict, NotFound


def payment_idempotency_key(payment_id: int) -> str:
    return f"payment-{payment_id}"


def checkout_idempotency_key(payment_id: int) -> str:
    return f"payment-{payment_id}-checkout"


def refund_idempotency_key(refund: Refund) -> str:
    return f"refund-{refund.id}"


async def ensure_customer(
    transactions: async_sessionmaker[AsyncSession],
    gateway: StripeGateway,
    organization: Organization,
) -> str:
    """The organisation's Stripe customer, made on its first payment and recorded in a
    transaction of its own (the request's must not hold the organisation's row locked
    while our payment row, which refers to it, is committed beside it)."""
    if organization.stripe_customer_id is not None:
        return organization.stripe_customer_id
    # Keyed by our organisation: two first payments at once make one customer.
    customer = await gateway.create_customer(
        name=organization.name,
        organization_id=organization.id,
        idempotency_key=f"organization-{organization.id}-customer",
    )
    async with transactions() as session, session.begin():
        await session.execute(
            update(Organization)
            .where(Organization.id == organization.id, Organization.stripe_customer_id.is_(None))
            .values(stripe_customer_id=customer)
        )
    return customer


def _our_ids(payment: Payment) -> dict[str, str]:
    """What the webhook handlers need to find our row without trusting anything else."""
    return {"organization_id": str(payment.organization_id), "payment_id": str(payment.id)}


async def _committed_payment(
    transactions: async_sessionmaker[AsyncSession],
    *,
    buyer: Membership,
    product: Product,
    idempotency_key: Callable[[int], str],
) -> int:
    """Writes our payment row and its idempotency key, and commits them, before Stripe is
    called: whatever happens to the request after that call, the row and the key that
    Stripe knows the call by are there to retry with. Returns the row's id."""
    price = PRICES[product]
    async with transactions() as session, session.begin():
        await act_for_organization(session, buyer.organization_id, user_id=buyer.user_id)
        payment = Payment(
            organization_id=buyer.organization_id,
            created_by=buyer.user_id,
            product=product.value,
            amount=price.amount,
            currency=price.currency,
        )
        session.add(payment)
        await session.flush()  # the id, from which the key is derived
        payment.stripe_idempotency_key = idempotency_key(payment.id)
    return payment.id


async def _create_intent(
    session: AsyncSession, gateway: StripeGateway, customer: str, payment: Payment
) -> Payment:
    assert payment.stripe_idempotency_key is not None  # noqa: S101  (committed with the row)
    intent = await gateway.create_payment_intent(
        amount=payment.amount,
        currency=payment.currency,
        customer=customer,
        metadata=_our_ids(payment),
        idempotency_key=payment.stripe_idempotency_key,
    )
    payment.stripe_payment_intent_id = intent.id
    payment.client_secret = intent.client_secret
    await session.flush()
    return payment


async def start_payment(
    session: AsyncSession,
    gateway: StripeGateway,
    transactions: async_sessionmaker[AsyncSession],
    *,
    buyer: Membership,
    organization: Organization,
    product: Product,
) -> Payment:
    # The customer first: Stripe down now leaves nothing behind, not even a pending row.
    customer = await ensure_customer(transactions, gateway, organization)
    payment_id = await _committed_payment(
        transactions, buyer=buyer, product=product, idempotency_key=payment_idempotency_key
    )
    payment = await repository.get(session, organization.id, payment_id)
    assert payment is not None  # noqa: S101  (committed just above, in this organisation)
    return await _create_intent(session, gateway, customer, payment)


async def resume_payment(
    session: AsyncSession,
    gateway: StripeGateway,
    transactions: async_sessionmaker[AsyncSession],
    *,
    organization: Organization,
    payment_id: int,
) -> Payment:
    """The pending payment with its PaymentIntent, asking Stripe for it again (same key) if
    the first request did not get that far: a retry, not a second payment."""
    payment = await repository.lock(session, organization.id, payment_id)
    if payment is None:
        raise NotFound("No such payment")
    # The key tells how the payment was started, even when the answer that would have
    # named its Checkout Session was lost: a Checkout row's key is a Session's, which Stripe
    # refuses on another endpoint; a seeded row has none, as it was never sent to Stripe.
    started_with_stripe_js = payment.stripe_idempotency_key == payment_idempotency_key(payment.id)
    if payment.status is not PaymentStatus.PENDING or not started_with_stripe_js:
        raise Conflict("Only a pending payment made with Stripe.js can be resumed")
    if payment.client_secret is not None:
        return payment
    customer = await ensure_customer(transactions, gateway, organization)
    return await _create_intent(session, gateway, customer, payment)


async def start_checkout(
    session: AsyncSession,
    gateway: StripeGateway,
    transactions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    buyer: Membership,
    organization: Organization,
    product: Product,
) -> tuple[Payment, str]:
    """Our payment row and the URL of Stripe's hosted page where the customer pays it."""
    price = PRICES[product]
    customer = await ensure_customer(transactions, gateway, organization)
    payment_id = await _committed_payment(
        transactions, buyer=buyer, product=product, idempotency_key=checkout_idempotency_key
    )
    payment = await repository.get(session, organization.id, payment_id)
    assert payment is not None  # noqa: S101  (committed just above, in this organisation)
    assert payment.stripe_idempotency_key is not None  # noqa: S101
    checkout = await gateway.create_checkout_session(
        amount=price.amount,
        currency=price.currency,
        product_name=f"{price.credits} credits",
        customer=customer,
        # Read back from the session by the webhook handler, to find our row.
        metadata=_our_ids(payment),
        payment_intent_metadata=_our_ids(payment),
        success_url=settings.checkout_success_url,
        cancel_url=settings.checkout_cancel_url,
        idempotency_key=payment.stripe_idempotency_key,
    )
    payment.stripe_checkout_session_id = checkout.id
    await session.flush()
    return payment, str(checkout.url)


async def _reserve_refund(
    transactions: async_sessionmaker[AsyncSession],
    *,
    requester: Membership,
    payment_id: int,
    amount: int | None,
    reason: RefundReason,
    note: str | None,
) -> tuple[Refund, str]:
    """Reserves the amount on the payment and writes the pending refund, committed before
    Stripe is asked: a refund Stripe makes is then never one we have no record of, even if
    its answer is lost. Returns the refund and the payment's PaymentIntent."""
    organization_id = requester.organization_id
    async with transactions() as session, session.begin():
        await act_for_organization(session, organization_id, user_id=requester.user_id)
        payment = await repository.lock(session, organization_id, payment_id)
        if payment is None:
            raise NotFound("No such payment")
        intent = payment.stripe_payment_intent_id
        if payment.status is not PaymentStatus.SUCCEEDED or intent is None:
            raise Conflict("Only a payment that succeeded can be refunded")
        refunded = payment.amount_captured - payment.amount_refunded if amount is None else amount
        if refunded <= 0:
            raise Conflict("Nothing is left to refund")
        # More than the whole charge is refused here: added to the refunded total, an amount
        # near the schema's limit would overflow the bigint before the CHECK could judge it.
        if refunded > payment.amount_captured:
            raise Conflict("The refunds would exceed what was captured")
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
            note=note,
        )
        session.add(refund)
    return refund, intent


async def refund(
    session: AsyncSession,
    gateway: StripeGateway,
    transactions: async_sessionmaker[AsyncSession],
    *,
    requester: Membership,
    payment_id: int,
    amount: int | None,
    reason: RefundReason,
    note: str | None = None,
) -> Refund:
    reserved, payment_intent = await _reserve_refund(
        transactions,
        requester=requester,
        payment_id=payment_id,
        amount=amount,
        reason=reason,
        note=note,
    )
    metadata = {"organization_id": str(reserved.organization_id), "refund_id": str(reserved.id)}
    if note:
        metadata["note"] = note
    # Stripe unavailable or silent (503): the refund stays pending, its amount reserved,
    # until its `refund.updated` or `charge.refunded` settles it (webhooks.handlers).
    try:
        stripe_refund = await gateway.create_refund(
            payment_intent=payment_intent,
            amount=reserved.amount,
            reason=reason.value,
            metadata=metadata,
            idempotency_key=refund_idempotency_key(reserved),
        )
    except StripeRefused:
        # No refund exists at Stripe: give the reserved amount back, in a transaction of
        # its own, as the request's is about to roll back.
        async with transactions() as own, own.begin():
            await act_for_organization(own, reserved.organization_id)
            await settlement.fail_refund(own, reserved.id)
        raise
    await settlement.settle_refund(session, reserved.id, stripe_refund.to_dict())
    settled = await session.get(Refund, reserved.id, populate_existing=True)
    assert settled is not None  # noqa: S101  (committed by _reserve_refund)
    return settled

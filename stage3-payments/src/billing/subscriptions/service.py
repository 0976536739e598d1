"""Starting and changing an organisation's subscription. Every change is asked of Stripe;
none is recorded here as granted.

Our copy of a subscription (and so the entitlements) changes only when the worker applies
Stripe's verified `customer.subscription.*` events, through the one order-independent path
of the webhook handlers. A request returns once Stripe has accepted the change (202): a
request that reached Stripe but whose answer was lost, or a customer who returns from
Checkout, changes nothing here until the event says so.

Idempotency keys come from our own ids and the requested change:
- `organization-<id>-subscription-<n>-<plan>-<interval>-<seats>` for the n-th checkout,
  so a double click opens one Checkout Session;
- `subscription-<id>-v<version>-<change>` for a change, where the version is when our copy
  last changed (to the microsecond: every Stripe event applied moves it). A retry (the
  SDK's, or the client's after a 503) and two identical requests at once send the same key:
  Stripe changes the subscription once. Once the change's event is applied, the version
  moves on, so the same change asked again later is a new request. Until then, a change
  of the same kind that is not the one Stripe already has (a resume right after a cancel)
  is a 409: asked again under the same version, it would reuse an earlier request's key
  and get that request's answer back, with nothing changed.
"""

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.config import Settings
from billing.models import Membership, Organization, Subscription, SubscriptionStatus
from billing.organizations import repository as organizations
from billing.payments.service import ensure_customer
from billing.plans import TERMS, Interval, PaidPlan, price_key
from billing.stripe_gateway import StripeGateway
from billing.subscriptions import repository
from billing.subscriptions.schemas import SubscriptionChange, SubscriptionCheckoutCreate
from roadmap_shared.errors import Conflict

Proration = Literal["always_invoice", "create_prorations"]

# Statuses in which nothing is paid for any more, even if not yet `canceled`.
_ENDED = {SubscriptionStatus.INCOMPLETE_EXPIRED}


async def _seats_for(
    session: AsyncSession,
    organization_id: int,
    plan: PaidPlan,
    requested: int | None,
    *,
    default: int = 0,
) -> int:
    """The quantity to bill: 1 on a flat plan; on team, the seats asked for (or kept), and
    never fewer than the members the organisation has now."""
    if not TERMS[plan].per_seat:
        return 1
    members = await organizations.member_count(session, organization_id)
    seats = requested or max(default, members)
    if seats < members:
        raise Conflict(
            f"The organisation has {members} members: the team plan needs at least {members} "
            "seats (remove members first)"
        )
    return seats


async def _paid_subscription(session: AsyncSession, organization_id: int) -> Subscription:
    subscription = await repository.current(session, organization_id)
    if (
        subscription is None
        or subscription.status in _ENDED
        or subscription.plan not in set(PaidPlan)
    ):
        raise Conflict(
            "The organisation has no paid subscription to change: start one with "
            f"POST /organizations/{organization_id}/subscription/checkout"
        )
    return subscription


def proration_for(
    subscription: Subscription, plan: PaidPlan, interval: Interval, seats: int
) -> Proration:
    """Upgrades are invoiced at once (`always_invoice`): the customer pays the difference
    for the rest of the period now, so a bigger plan is never used on credit until the
    renewal (and a card that fails puts the subscription into dunning at once). Downgrades
    `create_prorations`: the unused part of the old price is a credit on the next invoice,
    not a refund."""
    rank_now, rank_new = TERMS[PaidPlan(subscription.plan)].rank, TERMS[plan].rank
    longer = interval is Interval.YEAR and subscription.interval == Interval.MONTH.value
    same_plan_more = rank_new == rank_now and (seats > subscription.seats or longer)
    return "always_invoice" if rank_new > rank_now or same_plan_more else "create_prorations"


async def start_checkout(
    session: AsyncSession,
    transactions: async_sessionmaker[AsyncSession],
    gateway: StripeGateway,
    settings: Settings,
    *,
    organization: Organization,
    request: SubscriptionCheckoutCreate,
) -> tuple[str, str]:
    """The id and URL of a Checkout Session in `subscription` mode for the plan's Price."""
    existing = await repository.current(session, organization.id)
    if existing is not None and existing.status not in _ENDED:
        raise Conflict(
            f"The organisation already has a {existing.plan} subscription: change it with "
            f"PATCH /organizations/{organization.id}/subscription"
        )
    seats = await _seats_for(session, organization.id, request.plan, request.seats)
    earlier = await repository.count_for(session, organization.id)
    customer = await ensure_customer(transactions, gateway, organization)
    checkout = await gateway.create_subscription_checkout(
        price=settings.plan_prices[price_key(request.plan, request.interval)],
        quantity=seats,
        # One trial per organisation: not a new one each time it cancels and comes back.
        trial_days=TERMS[request.plan].trial_days if earlier == 0 else 0,
        customer=customer,
        # Copied onto the subscription: the handlers read the organisation and the plan.
        metadata={
            "organization_id": str(organization.id),
            "plan": request.plan.value,
            "interval": request.interval.value,
        },
        success_url=settings.subscription_success_url,
        cancel_url=settings.subscription_cancel_url,
        idempotency_key=(
            f"organization-{organization.id}-subscription-{earlier + 1}"
            f"-{request.plan}-{request.interval}-{seats}"
        ),
    )
    if checkout.url is None:  # the same request, replayed after the customer paid
        raise Conflict("This checkout is already paid: the plan starts when Stripe confirms it")
    return checkout.id, checkout.url


async def change_plan(
    session: AsyncSession,
    gateway: StripeGateway,
    settings: Settings,
    *,
    manager: Membership,
    change: SubscriptionChange,
) -> tuple[Subscription, str]:
    """Asks Stripe to move the subscription to another plan, interval or seat count;
    returns our copy (unchanged) and what was asked."""
    subscription = await _paid_subscription(session, manager.organization_id)
    plan = change.plan or PaidPlan(subscription.plan)
    interval = change.interval or Interval(subscription.interval)
    if change.seats is not None and not TERMS[plan].per_seat:
        raise Conflict(f"Seats are bought on the team plan only, not on {plan.value}")
    kept = subscription.seats if subscription.plan == plan.value else 0
    seats = await _seats_for(session, manager.organization_id, plan, change.seats, default=kept)
    if (plan.value, interval.value, seats) == (
        subscription.plan,
        subscription.interval,
        subscription.seats,
    ):
        raise Conflict(f"The subscription is already {plan.value}, {interval.value}, {seats}")
    requested = f"{plan.value}-{interval.value}-{seats}"
    # The item's id, and the check that Stripe still has the subscription, from Stripe now.
    at_stripe = await gateway.retrieve_subscription(subscription.stripe_subscription_id)
    item = at_stripe["items"]["data"][0]
    metadata = at_stripe.get("metadata") or {}
    _refuse_while_in_flight(
        ours=(subscription.plan, subscription.interval, subscription.seats),
        at_stripe=(metadata.get("plan"), metadata.get("interval"), item.get("quantity")),
        requested=(plan.value, interval.value, seats),
    )
    await gateway.change_subscription_item(
        subscription.stripe_subscription_id,
        item_id=item["id"],
        price=settings.plan_prices[price_key(plan, interval)],
        quantity=seats,
        proration_behavior=proration_for(subscription, plan, interval, seats),
        metadata={"plan": plan.value, "interval": interval.value},
        idempotency_key=_change_key(subscription, requested),
    )
    return subscription, requested


async def set_cancel_at_period_end(
    session: AsyncSession, gateway: StripeGateway, *, manager: Membership, cancel: bool
) -> tuple[Subscription, str]:
    """Cancel at the period's end (paid time is kept), or resume a cancellation asked for."""
    subscription = await _paid_subscription(session, manager.organization_id)
    requested = "cancel-at-period-end" if cancel else "resume"
    at_stripe = await gateway.retrieve_subscription(subscription.stripe_subscription_id)
    _refuse_while_in_flight(
        ours=subscription.cancel_at_period_end,
        at_stripe=bool(at_stripe.get("cancel_at_period_end")),
        requested=cancel,
    )
    await gateway.set_cancel_at_period_end(
        subscription.stripe_subscription_id,
        cancel=cancel,
        idempotency_key=_change_key(subscription, requested),
    )
    return subscription, requested


def _refuse_while_in_flight(*, ours: object, at_stripe: object, requested: object) -> None:
    """409 while Stripe has a change our copy has not caught up with, unless it is the one
    asked for now. The key's version moves only when an event is applied, so a change
    reversed and asked again in between (cancel, resume, cancel) would reuse the first
    request's key: Stripe would replay its first answer, change nothing, and the client
    would be told 202 for a cancellation that never happened."""
    if at_stripe not in (ours, requested):
        raise Conflict(
            "An earlier change is still being applied at Stripe: try again once the "
            "subscription shows it"
        )


def _change_key(subscription: Subscription, requested: str) -> str:
    # The version: when our copy last changed, to the microsecond. Stripe's `created` has
    # whole seconds, so events applied within one second would leave it where it was, and
    # cancel, resume, cancel again would replay the first cancellation's answer.
    version = round(subscription.updated_at.timestamp() * 1_000_000)
    return f"subscription-{subscription.id}-v{version}-{requested}"


async def billing_portal_url(
    gateway: StripeGateway, settings: Settings, *, organization: Organization
) -> str:
    if organization.stripe_customer_id is None:
        raise Conflict("The organisation has no billing account yet: it has never paid")
    return await gateway.create_billing_portal_session(
        customer=organization.stripe_customer_id, return_url=settings.billing_portal_return_url
    )

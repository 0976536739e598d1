"""What an organisation may do, derived from its subscription in this one place.

Every check (the projects limit, seats, paid features) asks `entitlements_for`; nothing
else looks at a subscription's status. So a downgrade, a failed payment past its grace
period or a dispute changes what members can do everywhere at once.

Dunning: the first failed invoice makes a subscription `past_due`. For `grace` after that
the plan stays as it was (cards expire; most customers fix it within days); past the grace
period, or once Stripe gives up (`unpaid`), the organisation is suspended to the free
limits until an invoice is paid.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from billing.models import Subscription, SubscriptionStatus


@dataclass(frozen=True)
class Plan:
    name: str
    max_projects: int
    max_seats: int
    paid_features: bool


PLANS = {
    "free": Plan("free", max_projects=1, max_seats=1, paid_features=False),
    "pro": Plan("pro", max_projects=10, max_seats=3, paid_features=True),
    # Seats on the team plan are what the subscription's quantity pays for.
    "team": Plan("team", max_projects=100, max_seats=1, paid_features=True),
}
FREE = PLANS["free"]


@dataclass(frozen=True)
class Entitlements:
    plan: str
    max_projects: int
    max_seats: int
    paid_features: bool
    # Paid for, but withheld: a payment overdue past the grace period, or a dispute.
    suspended: bool = False


_IN_GOOD_STANDING = {SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE}
_WITHHELD = {SubscriptionStatus.UNPAID, SubscriptionStatus.PAUSED}


def _granted(plan: Plan, subscription: Subscription) -> Entitlements:
    seats = subscription.seats if plan.name == "team" else plan.max_seats
    return Entitlements(plan.name, plan.max_projects, seats, plan.paid_features)


def _suspended(plan: Plan) -> Entitlements:
    return Entitlements(plan.name, FREE.max_projects, FREE.max_seats, False, suspended=True)


def entitlements_for(
    subscription: Subscription | None, *, now: datetime, grace: timedelta
) -> Entitlements:
    free = Entitlements(FREE.name, FREE.max_projects, FREE.max_seats, FREE.paid_features)
    if subscription is None or subscription.plan not in PLANS:
        return free
    plan = PLANS[subscription.plan]
    status = subscription.status
    if subscription.frozen_by_dispute or status in _WITHHELD:
        return _suspended(plan)
    if status in _IN_GOOD_STANDING:
        return _granted(plan, subscription)
    if status is SubscriptionStatus.PAST_DUE:
        overdue_since = subscription.past_due_since or now
        return _granted(plan, subscription) if now - overdue_since < grace else _suspended(plan)
    return free  # canceled, incomplete, incomplete_expired: nothing paid for

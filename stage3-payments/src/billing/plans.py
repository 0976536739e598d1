"""The plans an organisation can subscribe to, and which Stripe Price bills each.

A client names a plan and an interval; the Price sent to Stripe, the trial and who may
buy seats come from here and from the settings (each Stripe account has its own Price
ids: `PAYMENTS_PLAN_PRICES`), never from the request. What each plan allows lives with
the entitlements (`subscriptions.entitlements.PLANS`), the one place it is derived.
"""

from dataclasses import dataclass
from enum import StrEnum


class PaidPlan(StrEnum):
    PRO = "pro"
    TEAM = "team"


class Interval(StrEnum):
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True)
class PlanTerms:
    trial_days: int
    # Higher is more: moving up is an upgrade, billed at once (see service.proration_for).
    rank: int
    # Team is billed per seat (the subscription's quantity); Pro is one flat price.
    per_seat: bool


TERMS = {
    PaidPlan.PRO: PlanTerms(trial_days=14, rank=1, per_seat=False),
    PaidPlan.TEAM: PlanTerms(trial_days=14, rank=2, per_seat=True),
}


def price_key(plan: PaidPlan, interval: Interval) -> str:
    """The key of a plan's Price in `Settings.plan_prices`: `pro_month`, `team_year`..."""
    return f"{plan.value}_{interval.value}"


PRICE_KEYS = frozenset(price_key(plan, interval) for plan in PaidPlan for interval in Interval)

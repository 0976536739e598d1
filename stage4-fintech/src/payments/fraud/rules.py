"""The fraud check's rules: whether a transfer or payout may complete at once, or waits
for a person. Pure, so each rule is tested alone; the thresholds are settings."""

from dataclasses import dataclass

VELOCITY = "velocity"
AMOUNT = "amount"


@dataclass(frozen=True)
class Thresholds:
    velocity_limit: int  # payments per customer within the window, this one included
    review_amount: int  # minor units: this much or more is looked at by a person


def rule_broken(*, amount: int, recent_payments: int, thresholds: Thresholds) -> str | None:
    """The first rule the payment breaks (its name, as `payment.held` carries it), or None."""
    if recent_payments > thresholds.velocity_limit:
        return VELOCITY
    if amount >= thresholds.review_amount:
        return AMOUNT
    return None

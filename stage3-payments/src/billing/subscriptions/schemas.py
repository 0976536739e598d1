from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from billing.models import SubscriptionStatus
from billing.plans import TERMS, Interval, PaidPlan

# Enough for any team this service is sized for; Stripe's own limit is far higher.
MAX_SEATS = 1_000


def _seats_only_for_team(plan: PaidPlan | None, seats: int | None) -> None:
    if plan is not None and seats is not None and not TERMS[plan].per_seat:
        raise ValueError(f"seats are bought on the team plan only, not on {plan.value}")


class PlanPublic(BaseModel):
    plan: PaidPlan
    intervals: list[Interval]
    trial_days: int
    per_seat: bool
    max_projects: int
    max_seats: int | None = Field(description="None on the team plan: the seats bought")


class SubscriptionCheckoutCreate(BaseModel):
    # A plan and an interval, never a Price: which Price bills them is ours (see plans).
    plan: PaidPlan
    interval: Interval = Interval.MONTH
    seats: int | None = Field(
        default=None, ge=1, le=MAX_SEATS, description="Team only; at least the member count"
    )

    @model_validator(mode="after")
    def _seats_for_team(self) -> Self:
        _seats_only_for_team(self.plan, self.seats)
        return self


class SubscriptionChange(BaseModel):
    """What to change; what is left out stays as it is."""

    plan: PaidPlan | None = None
    interval: Interval | None = None
    seats: int | None = Field(default=None, ge=1, le=MAX_SEATS)

    @model_validator(mode="after")
    def _something_and_seats_for_team(self) -> Self:
        if self.plan is None and self.interval is None and self.seats is None:
            raise ValueError("name a plan, an interval or seats to change")
        _seats_only_for_team(self.plan, self.seats)
        return self


class SubscriptionPublic(BaseModel):
    """Our copy, as of the newest Stripe event applied: what is granted now."""

    model_config = ConfigDict(from_attributes=True)

    plan: str
    interval: str
    status: SubscriptionStatus
    seats: int
    cancel_at_period_end: bool
    current_period_end: datetime | None
    stripe_subscription_id: str


class SubscriptionCheckoutCreated(BaseModel):
    checkout_url: str = Field(
        description="Send the customer to this Stripe page; the subscription starts when "
        "Stripe's webhook says so, never on the customer's return"
    )
    stripe_checkout_session_id: str


class ChangeRequested(BaseModel):
    """202: Stripe accepted the change; it is granted when Stripe's event arrives."""

    requested: str = Field(description="What was asked of Stripe")
    subscription: SubscriptionPublic = Field(description="What is granted until then")


class BillingPortalCreated(BaseModel):
    url: str = Field(description="A short-lived Stripe page: invoices, payment methods")

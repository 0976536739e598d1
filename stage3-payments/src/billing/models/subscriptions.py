from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from billing.models.base import Base, IntegerIdMixin, TenantMixin, string_enum
from roadmap_shared.database import TimestampMixin


class SubscriptionStatus(StrEnum):
    # Stripe's statuses that we act on (see billing.subscriptions.entitlements).
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    UNPAID = "unpaid"
    CANCELED = "canceled"
    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    PAUSED = "paused"


class Subscription(IntegerIdMixin, TenantMixin, TimestampMixin, Base):
    """Our copy of a Stripe subscription, as of the newest event we applied."""

    __tablename__ = "subscriptions"
    __table_args__ = (CheckConstraint("seats > 0", name="seats_positive"),)

    stripe_subscription_id: Mapped[str] = mapped_column(String(255), unique=True)
    plan: Mapped[str] = mapped_column(String(20))
    interval: Mapped[str] = mapped_column(String(10))
    status: Mapped[SubscriptionStatus] = mapped_column(
        string_enum(SubscriptionStatus, "subscription_status")
    )
    seats: Mapped[int] = mapped_column(BigInteger, default=1)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    current_period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the first failed invoice put it past due: entitlements last a grace period
    # from there (see entitlements), then are suspended until an invoice is paid.
    past_due_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A dispute on one of the organisation's payments freezes the paid features.
    frozen_by_dispute: Mapped[bool] = mapped_column(Boolean, default=False)
    # The Stripe `created` of the newest event applied: an older event arriving late is
    # ignored instead of overwriting a newer state.
    last_event_created: Mapped[int] = mapped_column(BigInteger, default=0)


class Project(IntegerIdMixin, TenantMixin, TimestampMixin, Base):
    """A small demo resource whose limit depends on the plan (see entitlements)."""

    __tablename__ = "projects"

    name: Mapped[str] = mapped_column(String(100))

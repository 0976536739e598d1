from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.models.base import Base, IntegerIdMixin, TenantMixin, string_enum
from roadmap_shared.database import TimestampMixin


class PaymentStatus(StrEnum):
    # Our row exists; the PaymentIntent may or may not (the call may have failed).
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class Payment(IntegerIdMixin, TenantMixin, TimestampMixin, Base):
    """A one-off purchase. Amount and currency come from our price list, never the client."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("amount_captured BETWEEN 0 AND amount", name="captured_within_amount"),
        # The database's own guarantee that refunds never exceed what was captured, whatever
        # the code above it does (two requests at once, a bug, a manual UPDATE).
        CheckConstraint(
            "amount_refunded BETWEEN 0 AND amount_captured", name="refunds_within_captured"
        ),
    )

    created_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    product: Mapped[str] = mapped_column(String(50))
    amount: Mapped[int] = mapped_column(BigInteger)  # in the currency's minor unit (cents)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PaymentStatus] = mapped_column(
        string_enum(PaymentStatus, "payment_status"), default=PaymentStatus.PENDING
    )
    amount_captured: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Set when the payment goes through Stripe's hosted Checkout page; the PaymentIntent id
    # is then known only once the customer has paid.
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # What the client needs to confirm the payment with Stripe.js; not a secret to us, but
    # only ever shown to the organisation that owns the payment (row-level security).
    client_secret: Mapped[str | None] = mapped_column(String(255))
    # Credits granted once the payment succeeded; 0 until then. Granted exactly once: the
    # handler moves `status` from pending to succeeded and grants in the same UPDATE.
    credits_granted: Mapped[int] = mapped_column(BigInteger, default=0)


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RefundReason(StrEnum):
    # Stripe's own reasons, so they can be passed on as they are.
    DUPLICATE = "duplicate"
    FRAUDULENT = "fraudulent"
    REQUESTED_BY_CUSTOMER = "requested_by_customer"


class Refund(IntegerIdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("stripe_refund_id"),
    )

    payment_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    requested_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[RefundReason] = mapped_column(string_enum(RefundReason, "refund_reason"))
    status: Mapped[RefundStatus] = mapped_column(
        string_enum(RefundStatus, "refund_status"), default=RefundStatus.PENDING
    )
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255))

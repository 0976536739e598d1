"""The service's tables: customers, their wallets, their payments, and the two tables of
roadmap_shared.messaging (the outbox, the messages already handled). Balances are not
here: the ledger keeps them."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    String,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from roadmap_shared.database import TimestampMixin, new_metadata
from roadmap_shared.messaging import OutboxEventMixin, ProcessedMessageMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


def _string_enum(kind: type[StrEnum], name: str) -> Enum:
    # VARCHAR with a CHECK rather than a PostgreSQL ENUM type: adding a value later is a
    # constraint change, not an `ALTER TYPE` that cannot run inside a transaction.
    return Enum(
        kind,
        name=name,
        native_enum=False,
        length=20,
        create_constraint=True,
        values_callable=lambda members: [member.value for member in members],
    )


class Role(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"  # reviews the payments the fraud check held


class Customer(TimestampMixin, Base):
    __tablename__ = "customers"

    # A UUID, not a sequence: it travels in events to other services, and reveals nothing
    # about how many customers there are.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # Stored lower-cased (see customers.service), so the unique index is case-insensitive.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_string_enum(Role, "role"), default=Role.CUSTOMER)


class Wallet(TimestampMixin, Base):
    """A customer's account in the ledger (the same id): one per customer."""

    __tablename__ = "wallets"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), unique=True)
    currency: Mapped[str] = mapped_column(String(3))


class PaymentKind(StrEnum):
    TOP_UP = "top_up"
    TRANSFER = "transfer"
    PAYOUT = "payout"


class PaymentStatus(StrEnum):
    NEW = "new"  # recorded, the ledger not yet asked (or its answer lost)
    PENDING = "pending"  # the funds reserved in the ledger; the fraud check decides
    HELD = "held"  # reserved, waiting for a reviewer
    COMPLETED = "completed"  # the money moved
    REJECTED = "rejected"  # nothing moved (refused by the ledger, or by a reviewer)


class Payment(TimestampMixin, Base):
    """One money-moving request. Its id is derived from the customer and the request's
    Idempotency-Key (`payments.payments.service.payment_id`), and is the id of its transfer
    in the ledger: a retried request finds this row, and the ledger moves the money once."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        # A reviewer's decision names who took it and when, both or neither.
        CheckConstraint(
            "(reviewed_by IS NULL) = (reviewed_at IS NULL)", name="reviewed_by_and_at_together"
        ),
        # "My payments, newest first", and the fraud check's count of recent ones.
        Index("ix_payments_customer_id_created_at", "customer_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[PaymentKind] = mapped_column(_string_enum(PaymentKind, "payment_kind"))
    status: Mapped[PaymentStatus] = mapped_column(
        _string_enum(PaymentStatus, "payment_status"), default=PaymentStatus.NEW
    )
    debit_account_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    credit_account_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # Why it was held or rejected: a fraud rule, a ledger reason, a reviewer's decision.
    reason: Mapped[str | None] = mapped_column(String(100))
    # The staff member who approved or rejected it, and when; empty unless a reviewer
    # decided (the fraud check and the reconciler decide the rest).
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxEvent(OutboxEventMixin, Base):
    """The events this service announces (`payment.*`, see the README's contract), each
    written in the transaction of the change it announces. The relay
    (`python -m payments.worker`) publishes them: see roadmap_shared.messaging."""


class ProcessedMessage(ProcessedMessageMixin, Base):
    """The events the fraud consumer has handled: a redelivered one is skipped."""

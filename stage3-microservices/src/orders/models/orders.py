from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from orders.models.base import Base, IntegerIdMixin
from roadmap_shared.database import TimestampMixin


class OrderStatus(StrEnum):
    # The checkout saga is reserving stock in the catalog: nothing is sold yet, so giving
    # up (failed) is always safe.
    PENDING = "pending"
    # The confirmation has been sent to the catalog. Until its answer is known the stock
    # may be sold, so the order is never failed blind: it is placed or failed once the
    # catalog says what became of its reservation (`orders.orders.settle`).
    CONFIRMING = "confirming"
    PLACED = "placed"  # the catalog confirmed the stock; the order stands
    FAILED = "failed"  # the saga gave up and released what it had reserved
    # The customer cancelled: decided and committed before the catalog is asked to give
    # the stock back, so that the order can no longer be placed, and whoever finds it
    # (a retried cancel, the settler) finishes the giving back.
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"  # the stock is back in the catalog; the order is void


# The saga's statuses before the end: what the settler looks at once they are stale.
UNSETTLED = (OrderStatus.PENDING, OrderStatus.CONFIRMING, OrderStatus.CANCELLING)
# What a customer may still cancel: a confirming order's stock may be sold, so it is.
CANCELLABLE = (OrderStatus.CONFIRMING, OrderStatus.PLACED)


class Order(IntegerIdMixin, TimestampMixin, Base):
    """An order, written before the checkout saga calls the catalog, so that the saga's
    progress outlives a crash and its reservation has a key: `order-<id>`."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(
            "status <> 'placed' OR total_amount = subtotal_amount + tax_amount",
            name="total_adds_up",
        ),
        CheckConstraint("subtotal_amount >= 0 AND tax_amount >= 0", name="amounts_not_negative"),
        # A retried checkout (the same Idempotency-Key) resumes the same order.
        UniqueConstraint("user_id", "idempotency_key"),
        Index("ix_orders_user_id_created_at", "user_id", "created_at"),
        # The settler's question, "which checkouts have been unsettled for a while?", reads
        # a few rows of this index instead of every order ever placed.
        Index(
            "ix_orders_unsettled",
            "updated_at",
            postgresql_where=text("status IN ('pending', 'confirming', 'cancelling')"),
        ),
    )

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[OrderStatus] = mapped_column(
        Enum(
            OrderStatus,
            name="order_status",
            native_enum=False,
            length=20,
            create_constraint=True,
            values_callable=lambda statuses: [status.value for status in statuses],
        ),
        default=OrderStatus.PENDING,
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    # Known once the catalog has priced the reservation; zero while pending.
    subtotal_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    total_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    # The rate applied, kept with the order: the shop's rate may change, the invoice may not.
    tax_rate_basis_points: Mapped[int] = mapped_column(Integer)
    # A snapshot, never queried by its parts: a JSON document suits it.
    shipping_address: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Why the saga gave up, for the customer (the catalog's answer, or "unavailable").
    failure_reason: Mapped[str | None] = mapped_column(String(300))

    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", lazy="raise", order_by="OrderLine.variant_id"
    )

    @property
    def reservation_key(self) -> str:
        """The catalog reservation of this order. Derived from the order id, so every
        retry of any step names the same reservation, and never holds stock twice."""
        return f"order-{self.id}"


class OrderLine(IntegerIdMixin, Base):
    """A line of the cart, copied when the checkout starts (the cart may change meanwhile);
    its price is the one the catalog reserved it at, filled in when the order is placed."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "unit_price_amount IS NULL OR line_total_amount = unit_price_amount * quantity",
            name="line_adds_up",
        ),
    )

    order_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    # A variant of the catalog service: no foreign key across databases.
    variant_id: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_amount: Mapped[int | None] = mapped_column(BigInteger)
    line_total_amount: Mapped[int | None] = mapped_column(BigInteger)

    order: Mapped[Order] = relationship(back_populates="lines", lazy="raise")

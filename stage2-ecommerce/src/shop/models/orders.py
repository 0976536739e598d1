from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from roadmap_shared.database import TimestampMixin
from shop.models.base import Base, IntegerIdMixin


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class Order(IntegerIdMixin, TimestampMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("total_amount = subtotal_amount + tax_amount", name="total_adds_up"),
        CheckConstraint("subtotal_amount >= 0 AND tax_amount >= 0", name="amounts_not_negative"),
        # "My orders, newest first" and "all orders in this status, newest first".
        Index("ix_orders_user_id_created_at", "user_id", "created_at"),
        Index("ix_orders_status_created_at", "status", "created_at"),
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
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_amount: Mapped[int] = mapped_column(BigInteger)
    tax_amount: Mapped[int] = mapped_column(BigInteger)
    total_amount: Mapped[int] = mapped_column(BigInteger)
    # The rate applied, kept with the order: the shop's rate may change, the invoice may not.
    tax_rate_basis_points: Mapped[int] = mapped_column(Integer)
    # A snapshot, never queried by its parts: a JSON document suits it.
    shipping_address: Mapped[dict[str, Any]] = mapped_column(JSONB)

    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", lazy="raise", order_by="OrderLine.id"
    )


class OrderLine(IntegerIdMixin, Base):
    """What was bought, copied from the catalogue at checkout: later edits to the product
    (a new name, a new price) do not rewrite past orders."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("line_total_amount = unit_price_amount * quantity", name="line_adds_up"),
    )

    order_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    variant_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("variants.id", ondelete="RESTRICT"), index=True
    )
    sku: Mapped[str] = mapped_column(String(64))
    product_name: Mapped[str] = mapped_column(String(200))
    variant_name: Mapped[str] = mapped_column(String(100))
    unit_price_amount: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total_amount: Mapped[int] = mapped_column(BigInteger)

    order: Mapped[Order] = relationship(back_populates="lines", lazy="raise")

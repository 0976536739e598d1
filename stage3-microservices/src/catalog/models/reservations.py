"""Stock held for a checkout in another service, until it is confirmed, released or lapses.

There is no transaction spanning the catalog and orders databases, so a checkout holds
stock here first (a reservation), and makes it final only once the order exists. A
reservation nobody confirms in time lapses and its stock returns: an orders service that
crashed mid-checkout cannot hold stock for ever.
"""

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models.base import Base, IntegerIdMixin
from roadmap_shared.database import TimestampMixin


class ReservationStatus(enum.StrEnum):
    HELD = "held"  # stock taken from `variants.stock`, not yet final
    CONFIRMED = "confirmed"  # final: the order exists
    RELEASED = "released"  # given back by the caller (a compensation)
    EXPIRED = "expired"  # given back because nobody confirmed it in time
    CANCELLED = "cancelled"  # confirmed, then given back: the order was cancelled


class Reservation(IntegerIdMixin, TimestampMixin, Base):
    __tablename__ = "reservations"

    # Chosen by the caller (orders derives it from the order id), so a retried request
    # names the same reservation instead of holding the stock twice.
    key: Mapped[str] = mapped_column(String(100), unique=True)
    # VARCHAR with a CHECK rather than a PostgreSQL ENUM type, as for the other statuses
    # of the shop: adding one later is a constraint change, not an `ALTER TYPE`.
    status: Mapped[ReservationStatus] = mapped_column(
        Enum(
            ReservationStatus,
            name="reservation_status",
            native_enum=False,
            length=20,
            create_constraint=True,
            values_callable=lambda statuses: [status.value for status in statuses],
        )
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

    lines: Mapped[list["ReservationLine"]] = relationship(
        lazy="raise", order_by="ReservationLine.variant_id"
    )


class ReservationLine(Base):
    __tablename__ = "reservation_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    reservation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("reservations.id", ondelete="CASCADE"), primary_key=True
    )
    variant_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("variants.id", ondelete="RESTRICT"), primary_key=True
    )
    quantity: Mapped[int] = mapped_column(Integer)
    # The price when the stock was reserved: what the order charges, whatever the price
    # becomes meanwhile. The catalog owns prices; orders copies them from here.
    unit_price_amount: Mapped[int] = mapped_column(BigInteger)
    # What the customer bought, as it was called then ("Shirt (M)"): orders copies it into
    # its events, since no other service may read the catalog's tables.
    product_name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))

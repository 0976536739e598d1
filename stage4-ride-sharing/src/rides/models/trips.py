from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from rides.models.base import Base, IntegerIdMixin, string_enum
from roadmap_shared.database import TimestampMixin, utcnow


class TripStatus(StrEnum):
    REQUESTED = "requested"
    DRIVER_ASSIGNED = "driver_assigned"
    ARRIVING = "arriving"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class CancelledBy(StrEnum):
    RIDER = "rider"
    DRIVER = "driver"
    # The dispatcher, when no driver accepted: the rider reads why in `cancel_reason`.
    DISPATCH = "dispatch"


# The SQL of the partial unique indexes below: a rider has one trip that is not over, a
# driver one trip that is assigned and not over. The database enforces what the
# dispatcher's lease only makes likely.
RIDER_ACTIVE = "status IN ('requested', 'driver_assigned', 'arriving', 'in_progress')"
DRIVER_ACTIVE = "status IN ('driver_assigned', 'arriving', 'in_progress')"


class Trip(IntegerIdMixin, TimestampMixin, Base):
    __tablename__ = "trips"
    __table_args__ = (
        Index(
            "uq_trips_one_active_per_rider",
            "rider_id",
            unique=True,
            postgresql_where=text(RIDER_ACTIVE),
        ),
        Index(
            "uq_trips_one_active_per_driver",
            "driver_id",
            unique=True,
            postgresql_where=text(DRIVER_ACTIVE),
        ),
        # The sweeper's query (trips still requested after a while): only the few trips
        # waiting for a driver are in it, however many the table holds.
        Index(
            "ix_trips_requested_created_at",
            "created_at",
            postgresql_where=text("status = 'requested'"),
        ),
        CheckConstraint(
            "(status = 'requested') = (driver_id IS NULL) OR status = 'cancelled'",
            name="driver_set_once_assigned",
        ),
        CheckConstraint(
            "(status = 'cancelled') = (cancelled_by IS NOT NULL)", name="cancelled_says_by_whom"
        ),
        CheckConstraint(
            "pickup_lat BETWEEN -90 AND 90 AND dropoff_lat BETWEEN -90 AND 90", name="latitudes"
        ),
        CheckConstraint(
            "pickup_lng BETWEEN -180 AND 180 AND dropoff_lng BETWEEN -180 AND 180",
            name="longitudes",
        ),
    )

    rider_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    driver_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    status: Mapped[TripStatus] = mapped_column(
        string_enum(TripStatus, "trip_status"), default=TripStatus.REQUESTED
    )
    # Raised by every transition; a transition names the version it read, so of two
    # conflicting ones (a rider cancelling while a driver accepts) only the first applies.
    version: Mapped[int] = mapped_column(Integer, default=1)
    pickup_lat: Mapped[float] = mapped_column(Double)
    pickup_lng: Mapped[float] = mapped_column(Double)
    dropoff_lat: Mapped[float] = mapped_column(Double)
    dropoff_lng: Mapped[float] = mapped_column(Double)
    quoted_fare_cents: Mapped[int] = mapped_column(Integer)
    surge: Mapped[float] = mapped_column(Double, default=1.0)
    fare_cents: Mapped[int | None] = mapped_column(Integer)
    distance_km: Mapped[float | None] = mapped_column(Double)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by: Mapped[CancelledBy | None] = mapped_column(
        string_enum(CancelledBy, "cancelled_by")
    )
    cancel_reason: Mapped[str | None] = mapped_column(String(200))


class TripPing(IntegerIdMixin, Base):
    """A driver's position during a trip: the fare is computed from these, not from the
    straight line between pickup and drop-off."""

    __tablename__ = "trip_pings"

    trip_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("trips.id", ondelete="CASCADE"), index=True
    )
    lat: Mapped[float] = mapped_column(Double)
    lng: Mapped[float] = mapped_column(Double)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

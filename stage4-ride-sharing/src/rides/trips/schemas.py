from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from rides.geo.coordinates import Latitude, Longitude
from rides.models import CancelledBy, Trip, TripStatus
from roadmap_shared.fields import MAX_INT32, StoredText


class Point(BaseModel):
    lat: Latitude
    lng: Longitude


class TripRequest(BaseModel):
    pickup: Point
    dropoff: Point


class Quote(BaseModel):
    distance_km: float
    duration_minutes: float
    surge: float = Field(description="1.0 unless demand in the pickup's cell exceeds supply")
    fare_cents: int
    cell: str = Field(description="The pickup's H3 cell (resolution 8), where surge is measured")


class CancelRequest(BaseModel):
    version: int = Field(
        ge=1, le=MAX_INT32, description="The version of the trip the caller last saw"
    )
    reason: StoredText = Field(min_length=1, max_length=200)


class Transition(BaseModel):
    to: Literal["arriving", "in_progress", "completed"]
    version: int = Field(
        ge=1, le=MAX_INT32, description="The version of the trip the caller last saw"
    )


class TripPublic(BaseModel):
    id: int
    status: TripStatus
    version: int
    rider_id: int
    driver_id: int | None
    pickup: Point
    dropoff: Point
    quoted_fare_cents: int
    surge: float
    fare_cents: int | None
    distance_km: float | None
    cancelled_by: CancelledBy | None
    cancel_reason: str | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None

    @classmethod
    def of(cls, trip: Trip) -> "TripPublic":
        return cls(
            id=trip.id,
            status=trip.status,
            version=trip.version,
            rider_id=trip.rider_id,
            driver_id=trip.driver_id,
            pickup=Point(lat=trip.pickup_lat, lng=trip.pickup_lng),
            dropoff=Point(lat=trip.dropoff_lat, lng=trip.dropoff_lng),
            quoted_fare_cents=trip.quoted_fare_cents,
            surge=trip.surge,
            fare_cents=trip.fare_cents,
            distance_km=trip.distance_km,
            cancelled_by=trip.cancelled_by,
            cancel_reason=trip.cancel_reason,
            created_at=trip.created_at,
            started_at=trip.started_at,
            ended_at=trip.ended_at,
        )

"""Every table of the ride-sharing service. Importing this package registers them all."""

from rides.models.accounts import Role, User
from rides.models.base import Base
from rides.models.trips import CancelledBy, Trip, TripPing, TripStatus

__all__ = ["Base", "CancelledBy", "Role", "Trip", "TripPing", "TripStatus", "User"]

"""The rules of a trip: who may request, cancel and move it, and what each move records.

Transitions are idempotent: repeating the move that produced the current version (a client
retrying after a lost response) answers with the trip as it is. Any other move from a
version the trip has left is a 409 that carries nothing but the current state."""

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rides.config import Settings
from rides.models import CancelledBy, Role, Trip, TripStatus, User
from rides.trips import repository
from rides.trips.history import Ping
from rides.trips.pricing import Estimate, fare_cents, travelled_km
from rides.trips.states import DRIVER_MOVES, MAY_CANCEL, sources_of
from roadmap_shared.database import utcnow
from roadmap_shared.errors import Conflict, NotFound


def _is_party(trip: Trip, user: User) -> bool:
    return user.id in {trip.rider_id, trip.driver_id}


async def visible_trip(session: AsyncSession, trip_id: int, user: User) -> Trip:
    """The trip, if `user` is its rider or its driver; 404 otherwise (not 403: another
    rider's trip ids are none of the caller's business)."""
    trip = await repository.get(session, trip_id)
    if trip is None or not _is_party(trip, user):
        raise NotFound("No such trip")
    return trip


async def request_trip(
    session: AsyncSession,
    rider: User,
    *,
    pickup: tuple[float, float],
    dropoff: tuple[float, float],
    estimate: Estimate,
) -> Trip:
    trip = Trip(
        rider_id=rider.id,
        pickup_lat=pickup[0],
        pickup_lng=pickup[1],
        dropoff_lat=dropoff[0],
        dropoff_lng=dropoff[1],
        quoted_fare_cents=estimate.fare_cents,
        surge=estimate.surge,
    )
    session.add(trip)
    try:
        # The partial unique index decides, also for two requests sent at once.
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as active:
        raise Conflict("You already have a trip that is not over") from active
    return trip


def _repeated(trip: Trip, version: int, to: TripStatus) -> bool:
    return trip.status is to and trip.version == version + 1


async def cancel(
    session: AsyncSession, trip: Trip, user: User, *, version: int, reason: str
) -> Trip:
    by = CancelledBy.RIDER if user.role is Role.RIDER else CancelledBy.DRIVER
    if _repeated(trip, version, TripStatus.CANCELLED) and trip.cancelled_by is by:
        return trip
    changed = await repository.change(
        session,
        trip.id,
        to=TripStatus.CANCELLED,
        from_statuses=MAY_CANCEL[by],
        version=version,
        values={"cancelled_by": by, "cancel_reason": reason, "ended_at": utcnow()},
    )
    if changed is None:
        raise Conflict(f"This trip is {trip.status.value} at version {trip.version}")
    return changed


async def advance(
    session: AsyncSession,
    settings: Settings,
    trip: Trip,
    driver: User,
    *,
    to: TripStatus,
    version: int,
    pings: Sequence[Ping] = (),
) -> Trip:
    """The driver's moves: on the way, rider on board, arrived (which sets the fare, from
    `pings`, the ride's history kept in Redis until now)."""
    if to not in DRIVER_MOVES or trip.driver_id != driver.id:
        raise NotFound("No such trip")
    if _repeated(trip, version, to):
        return trip
    if trip.status not in sources_of(to) or trip.version != version:
        raise Conflict(f"This trip is {trip.status.value} at version {trip.version}")
    values: dict[str, object] = {}
    if to is TripStatus.IN_PROGRESS:
        values["started_at"] = utcnow()
    elif to is TripStatus.COMPLETED:
        await repository.add_pings(session, trip.id, pings)
        values.update(await _final_fare(session, settings, trip))
    # Checked again by the UPDATE itself: the driver's other request may have won meanwhile.
    changed = await repository.change(
        session, trip.id, to=to, from_statuses=sources_of(to), version=version, values=values
    )
    if changed is None:
        raise Conflict(f"This trip is {trip.status.value} at version {trip.version}")
    return changed


async def _final_fare(session: AsyncSession, settings: Settings, trip: Trip) -> dict[str, object]:
    """The fare from the distance the pings actually cover and the time the trip took."""
    ended = utcnow()
    distance = travelled_km(await repository.pings(session, trip.id))
    minutes = (ended - (trip.started_at or ended)).total_seconds() / 60
    return {
        "ended_at": ended,
        "distance_km": round(distance, 3),
        "fare_cents": fare_cents(settings, distance, minutes, trip.surge),
    }

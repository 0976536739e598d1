"""Trips in SQL. Every change is one conditional `UPDATE ... RETURNING`: it applies only
if the row is still in the status (and at the version) the caller read, so two conflicting
changes never both apply, without a lock held across a round trip."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rides.models import Trip, TripPing, TripStatus
from rides.trips.history import Ping


async def get(session: AsyncSession, trip_id: int) -> Trip | None:
    return await session.get(Trip, trip_id, populate_existing=True)


# The dispatcher reads this before every offer: the two columns it needs, by a statement
# built once, without the ORM.
_REQUESTED_PICKUP = select(Trip.pickup_lat, Trip.pickup_lng).where(
    Trip.id == bindparam("trip_id"), Trip.status == TripStatus.REQUESTED
)


async def requested_pickup(session: AsyncSession, trip_id: int) -> tuple[float, float] | None:
    """The pickup of a trip still requested; None once it is not (or does not exist).
    One statement in autocommit: BEGIN and ROLLBACK around it would be two more round
    trips, and change nothing to what one statement reads."""
    connection = await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    row = (await connection.execute(_REQUESTED_PICKUP, {"trip_id": trip_id})).one_or_none()
    return None if row is None else (row.pickup_lat, row.pickup_lng)


async def change(
    session: AsyncSession,
    trip_id: int,
    *,
    to: TripStatus,
    from_statuses: Iterable[TripStatus],
    version: int | None = None,
    values: dict[str, Any] | None = None,
) -> Trip | None:
    """Moves the trip to `to` if it is in one of `from_statuses` (and at `version`, when
    given); the updated trip, or None when it was not."""
    statement = (
        update(Trip)
        .where(Trip.id == trip_id, Trip.status.in_(list(from_statuses)))
        .values(status=to, version=Trip.version + 1, updated_at=func.now(), **(values or {}))
        .returning(Trip)
        .execution_options(populate_existing=True)
    )
    if version is not None:
        statement = statement.where(Trip.version == version)
    changed: Trip | None = (await session.scalars(statement)).one_or_none()
    return changed


async def assign(session: AsyncSession, trip_id: int, driver_id: int) -> Trip | None:
    """Gives a requested trip to a driver. None if the trip is no longer requested, or if
    the driver already has an active trip: the partial unique index refuses that, however
    the dispatcher came to offer it (a lost lease, two dispatchers, a replayed accept)."""
    try:
        async with session.begin_nested():
            return await change(
                session,
                trip_id,
                to=TripStatus.DRIVER_ASSIGNED,
                from_statuses=[TripStatus.REQUESTED],
                values={"driver_id": driver_id},
            )
    except IntegrityError:
        return None


async def active_for_driver(session: AsyncSession, driver_id: int) -> Trip | None:
    result = await session.scalars(
        select(Trip).where(
            Trip.driver_id == driver_id,
            Trip.status.in_(
                [TripStatus.DRIVER_ASSIGNED, TripStatus.ARRIVING, TripStatus.IN_PROGRESS]
            ),
        )
    )
    return result.one_or_none()


async def add_ping(session: AsyncSession, trip_id: int, lat: float, lng: float) -> None:
    session.add(TripPing(trip_id=trip_id, lat=lat, lng=lng))
    await session.flush()


async def add_pings(session: AsyncSession, trip_id: int, pings: Sequence[Ping]) -> int:
    """Writes those of `pings` newer than the trip's newest stored ping; how many. Both
    writers of a trip's history call this, the periodic flush (`rides.trips.flusher`) and
    the completion, and either may hold pings the other has written already: the newest
    stored time is the watermark, read under a lock on the trip's row, so between them
    each ping is written once."""
    await session.execute(select(Trip.id).where(Trip.id == trip_id).with_for_update())
    newest = await session.scalar(
        select(func.max(TripPing.recorded_at)).where(TripPing.trip_id == trip_id)
    )
    rows = [
        {"trip_id": trip_id, "lat": p.lat, "lng": p.lng, "recorded_at": p.at}
        for p in pings
        if newest is None or p.at > newest
    ]
    if rows:
        await session.execute(insert(TripPing), rows)
    return len(rows)


async def lock_in_progress(
    session: AsyncSession, *, after_id: int, limit: int
) -> list[tuple[int, datetime]]:
    """(id, started_at) of up to `limit` trips in progress after `after_id`, their rows
    locked until the transaction ends. A trip whose row is locked already (its completion
    is being written) is skipped: the completion writes what is left of its history."""
    rows = await session.execute(
        select(Trip.id, Trip.started_at)
        .where(Trip.status == TripStatus.IN_PROGRESS, Trip.id > after_id)
        .order_by(Trip.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [(trip_id, started_at) for trip_id, started_at in rows if started_at is not None]


async def pings(session: AsyncSession, trip_id: int) -> list[tuple[float, float]]:
    result = await session.execute(
        select(TripPing.lat, TripPing.lng)
        .where(TripPing.trip_id == trip_id)
        .order_by(TripPing.recorded_at, TripPing.id)
    )
    return [(lat, lng) for lat, lng in result]

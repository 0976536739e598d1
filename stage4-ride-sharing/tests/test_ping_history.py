"""A ride's route outlives Redis: the flusher writes the pings of trips in progress to
PostgreSQL as they come (`rides.trips.flusher`), and the completion writes only what is
left, each ping once."""

import asyncio
import time
from datetime import datetime

from redis.asyncio import Redis
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rides.config import Settings
from rides.drivers.pings import Pings
from rides.geo.index import GeoIndex
from rides.models import Role, Trip, TripPing, TripStatus, User
from rides.trips import history, service
from rides.trips.flusher import PingFlusher
from roadmap_shared.database import utcnow
from tests.factories import PICKUP, committed_trip, committed_users, north_of


async def trip_in_progress(session: AsyncSession, redis: Redis) -> tuple[int, int, datetime]:
    """A trip whose rider got on board a moment ago; (trip id, driver id, when)."""
    [rider] = await committed_users(session, Role.RIDER, 1)
    [driver] = await committed_users(session, Role.DRIVER, 1)
    trip_id = await committed_trip(session, rider)
    started = utcnow()
    await session.execute(
        update(Trip)
        .where(Trip.id == trip_id)
        .values(status=TripStatus.IN_PROGRESS, driver_id=driver, version=4, started_at=started)
    )
    await session.commit()
    await history.assigned(redis, driver, trip_id)
    return trip_id, driver, started


async def drive(pings: Pings, driver_id: int, kms: list[float]) -> None:
    """Pings at `kms` north of the pickup, 10 ms apart (40 m steps: plausible)."""
    for km in kms:
        point = north_of(PICKUP, km)
        assert await pings.record(driver_id, point["lat"], point["lng"], time.time()) is not None
        await asyncio.sleep(0.01)


async def stored(session: AsyncSession, trip_id: int) -> int:
    session.expire_all()
    count = await session.scalar(
        select(func.count()).select_from(TripPing).where(TripPing.trip_id == trip_id)
    )
    return count or 0


async def complete(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    trip_id: int,
    driver_id: int,
    pings: list[history.Ping],
) -> Trip:
    """The driver's `completed`, as the router runs it, with the pings it read from Redis."""
    async with sessions() as session, session.begin():
        trip = await session.get(Trip, trip_id)
        driver = await session.get(User, driver_id)
        assert trip is not None
        assert driver is not None
        return await service.advance(
            session,
            settings,
            trip,
            driver,
            to=TripStatus.COMPLETED,
            version=trip.version,
            pings=pings,
        )


async def test_a_route_flushed_before_redis_lost_it_is_complete_at_the_end(
    *,
    committed_session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    redis_client: Redis,
    geo: GeoIndex,
    settings: Settings,
) -> None:
    trip_id, driver_id, started = await trip_in_progress(committed_session, redis_client)
    pings = Pings(redis_client, geo, max_speed_kmh=settings.max_speed_kmh)
    flusher = PingFlusher(sessions=sessions, redis=redis_client)
    await drive(pings, driver_id, [0.04 * step for step in range(13)])  # 480 m
    assert await flusher.flush() == 13
    assert await stored(committed_session, trip_id) == 13
    assert await flusher.flush() == 0  # nothing new, nothing twice
    # Redis restarts: the list and the driver's pointer to the trip are gone. The next
    # flush sets the pointer again; the pings after it are all Redis has.
    await redis_client.delete(history.PINGS_KEY % trip_id, history.driver_trip_key(driver_id))
    assert await flusher.flush() == 0
    await drive(pings, driver_id, [0.04 * step for step in range(13, 26)])  # 520 m more
    left = await history.pings_since(redis_client, trip_id, started)
    assert len(left) == 13
    completed = await complete(sessions, settings, trip_id, driver_id, left)
    assert await stored(committed_session, trip_id) == 26
    assert completed.distance_km is not None
    assert abs(completed.distance_km - 1.0) < 0.01


async def test_a_completion_that_read_pings_before_a_flush_writes_each_once(
    *,
    committed_session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    redis_client: Redis,
    geo: GeoIndex,
    settings: Settings,
) -> None:
    trip_id, driver_id, started = await trip_in_progress(committed_session, redis_client)
    pings = Pings(redis_client, geo, max_speed_kmh=settings.max_speed_kmh)
    await drive(pings, driver_id, [0.0, 0.04, 0.08])
    # The completion reads the list; the flusher stores and removes it meanwhile.
    read = await history.pings_since(redis_client, trip_id, started)
    assert await PingFlusher(sessions=sessions, redis=redis_client).flush() == 3
    assert await redis_client.llen(history.PINGS_KEY % trip_id) == 0  # type: ignore[misc]
    await drive(pings, driver_id, [0.12])
    read += await history.pings_since(redis_client, trip_id, started)
    await complete(sessions, settings, trip_id, driver_id, read)
    assert await stored(committed_session, trip_id) == 4


async def test_pings_that_came_after_an_eviction_are_not_removed_as_flushed(
    *, committed_session: AsyncSession, redis_client: Redis, geo: GeoIndex, settings: Settings
) -> None:
    """The list was read, then evicted and begun again by new pings before the flush could
    remove what it read: the new pings stay for the next flush."""
    trip_id, driver_id, started = await trip_in_progress(committed_session, redis_client)
    pings = Pings(redis_client, geo, max_speed_kmh=settings.max_speed_kmh)
    await drive(pings, driver_id, [0.0, 0.04, 0.08])
    read = await history.unflushed(redis_client, {trip_id: started})
    await redis_client.delete(history.PINGS_KEY % trip_id)
    await drive(pings, driver_id, [0.12, 0.16, 0.2])
    await history.forget_flushed(redis_client, read)
    assert len(await history.pings_since(redis_client, trip_id, started)) == 3

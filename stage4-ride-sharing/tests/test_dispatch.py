"""The dispatcher, end to end below HTTP: trips from the stream, offers to one driver at a
time under a lease, and PostgreSQL deciding every assignment. Drivers are played by tasks
that answer the offers Redis holds for them, as their sockets would."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rides.config import Settings
from rides.dispatch import answers
from rides.dispatch.dispatcher import NO_DRIVER, Dispatcher
from rides.dispatch.lease import trip_lease
from rides.dispatch.offers import Offers, offered_key
from rides.geo.index import GeoIndex
from rides.models import CancelledBy, Role, Trip, TripStatus
from rides.streams import GROUP, STREAM, TripRequests
from tests.conftest import make_settings
from tests.factories import PICKUP, committed_trip, committed_users, north_of
from tests.live import dispatching

# Every wait below is bounded by this; a passing run takes a fraction of it.
DEADLINE_SECONDS = 20


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(database_url, redis_url, offer_seconds=0.5, max_offers_per_trip=3)


@pytest.fixture
def make_dispatcher(
    *,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    redis_client: Redis,
    geo: GeoIndex,
    offers: Offers,
    trip_requests: TripRequests,
) -> Callable[[str], Dispatcher]:
    def make(name: str) -> Dispatcher:
        return Dispatcher(
            settings=settings,
            sessions=sessions,
            redis=redis_client,
            geo=geo,
            offers=offers,
            queue=trip_requests,
            name=name,
        )

    return make


async def online(geo: GeoIndex, driver_id: int, point: dict[str, float] = PICKUP) -> None:
    await geo.record(driver_id, point["lat"], point["lng"])
    await geo.set_available(driver_id, True)


@contextlib.asynccontextmanager
async def drivers_answering(
    sessions: async_sessionmaker[AsyncSession],
    offers: Offers,
    geo: GeoIndex,
    redis: Redis,
    driver_ids: list[int],
    *,
    accept: bool = True,
) -> AsyncIterator[list[str]]:
    """Drivers who answer every offer they get; yields the offer ids they saw.

    They stop when told (`off_duty`), as the dispatcher does, not by cancellation: on
    Python 3.11, with `socket_timeout` set, redis-py sends each command under
    `asyncio.wait_for`, which drops a cancellation that lands as the send completes
    (CPython gh-86296, fixed in 3.12); the task then runs on and waiting for it hangs."""
    seen: list[str] = []
    off_duty = asyncio.Event()

    async def driver(driver_id: int) -> None:
        while not off_duty.is_set():
            offer = await offers.pending_for(driver_id)
            if offer is not None and offer.id not in seen:
                seen.append(offer.id)
                with contextlib.suppress(answers.OfferRefused):
                    if accept:
                        await answers.accept(
                            sessions,
                            offers,
                            geo,
                            redis,
                            offer_id=offer.id,
                            driver_id=driver_id,
                        )
                    else:
                        await answers.decline(offers, offer_id=offer.id, driver_id=driver_id)
            await asyncio.sleep(0.01)

    tasks = [asyncio.create_task(driver(driver_id)) for driver_id in driver_ids]
    try:
        yield seen
    finally:
        off_duty.set()
        await asyncio.gather(*tasks, return_exceptions=True)


async def decided(session: AsyncSession, trip_ids: list[int]) -> list[Trip]:
    """Waits until none of the trips is still requested; returns them."""
    began = time.monotonic()
    while True:
        session.expire_all()
        trips = list(await session.scalars(select(Trip).where(Trip.id.in_(trip_ids))))
        if all(trip.status is not TripStatus.REQUESTED for trip in trips):
            return trips
        assert time.monotonic() - began < DEADLINE_SECONDS, "trips left undecided"
        await asyncio.sleep(0.05)


async def test_a_trip_goes_to_the_nearest_driver_who_accepts(
    *,
    committed_session: AsyncSession,
    make_dispatcher: Callable[[str], Dispatcher],
    sessions: async_sessionmaker[AsyncSession],
    offers: Offers,
    geo: GeoIndex,
    redis_client: Redis,
    trip_requests: TripRequests,
) -> None:
    [rider] = await committed_users(committed_session, Role.RIDER, 1)
    near, far = await committed_users(committed_session, Role.DRIVER, 2)
    await online(geo, far, north_of(PICKUP, 1.5))
    await online(geo, near, north_of(PICKUP, 0.2))
    trip_id = await committed_trip(committed_session, rider)
    await trip_requests.publish(trip_id)
    async with (
        drivers_answering(sessions, offers, geo, redis_client, [near, far]),
        dispatching(make_dispatcher("d1")),
    ):
        [trip] = await decided(committed_session, [trip_id])
    assert (trip.status, trip.driver_id) == (TripStatus.DRIVER_ASSIGNED, near)
    # Decided: the record of the drivers asked is gone with the dispatcher's work on it.
    assert await redis_client.exists(offered_key(trip_id)) == 0


async def test_after_n_refusals_the_rider_is_told(
    *,
    committed_session: AsyncSession,
    make_dispatcher: Callable[[str], Dispatcher],
    sessions: async_sessionmaker[AsyncSession],
    offers: Offers,
    geo: GeoIndex,
    redis_client: Redis,
    trip_requests: TripRequests,
) -> None:
    [rider] = await committed_users(committed_session, Role.RIDER, 1)
    drivers = await committed_users(committed_session, Role.DRIVER, 4)
    for number, driver_id in enumerate(drivers):
        await online(geo, driver_id, north_of(PICKUP, 0.1 * (number + 1)))
    trip_id = await committed_trip(committed_session, rider)
    await trip_requests.publish(trip_id)
    async with (
        drivers_answering(sessions, offers, geo, redis_client, drivers, accept=False) as seen,
        dispatching(make_dispatcher("d1")),
    ):
        [trip] = await decided(committed_session, [trip_id])
    assert len(seen) == 3  # max_offers_per_trip, one driver at a time, nearest first
    assert (trip.status, trip.cancelled_by) == (TripStatus.CANCELLED, CancelledBy.DISPATCH)
    assert trip.cancel_reason == NO_DRIVER


async def test_with_nobody_near_the_rider_is_told_at_once(
    *,
    committed_session: AsyncSession,
    make_dispatcher: Callable[[str], Dispatcher],
    geo: GeoIndex,
    trip_requests: TripRequests,
) -> None:
    [rider] = await committed_users(committed_session, Role.RIDER, 1)
    [driver] = await committed_users(committed_session, Role.DRIVER, 1)
    await online(geo, driver, north_of(PICKUP, 8))
    trip_id = await committed_trip(committed_session, rider)
    await trip_requests.publish(trip_id)
    await make_dispatcher("d1").step()
    [trip] = await decided(committed_session, [trip_id])
    assert trip.cancelled_by is CancelledBy.DISPATCH


async def test_a_search_past_its_steps_tells_the_rider_no_driver_is_near(
    *,
    committed_session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    redis_client: Redis,
    geo: GeoIndex,
    offers: Offers,
    trip_requests: TripRequests,
    database_url: str,
    redis_url: str,
) -> None:
    """Thirty busy drivers at the pickup, the one free driver behind them: two candidates
    asked for, then four, and the search has had its two steps."""
    [rider] = await committed_users(committed_session, Role.RIDER, 1)
    drivers = await committed_users(committed_session, Role.DRIVER, 31)
    for rank, driver in enumerate(drivers[:-1]):
        await online(geo, driver, north_of(PICKUP, 0.005 * rank))
        await geo.set_available(driver, False)
    await online(geo, drivers[-1], north_of(PICKUP, 0.3))
    trip_id = await committed_trip(committed_session, rider)
    await trip_requests.publish(trip_id)
    capped = make_settings(database_url, redis_url, candidates_per_radius=2, max_search_steps=2)
    dispatcher = Dispatcher(
        settings=capped,
        sessions=sessions,
        redis=redis_client,
        geo=geo,
        offers=offers,
        queue=trip_requests,
        name="d1",
    )
    async with drivers_answering(sessions, offers, geo, redis_client, drivers) as seen:
        await dispatcher.step()
        [trip] = await decided(committed_session, [trip_id])
    assert (trip.cancelled_by, trip.cancel_reason) == (CancelledBy.DISPATCH, NO_DRIVER)
    assert seen == []


async def test_a_driver_whose_pings_stopped_is_never_offered(
    *,
    committed_session: AsyncSession,
    make_dispatcher: Callable[[str], Dispatcher],
    sessions: async_sessionmaker[AsyncSession],
    offers: Offers,
    geo: GeoIndex,
    redis_client: Redis,
    trip_requests: TripRequests,
) -> None:
    [rider] = await committed_users(committed_session, Role.RIDER, 1)
    silent, pinging = await committed_users(committed_session, Role.DRIVER, 2)
    await online(geo, silent, PICKUP)  # at the pickup itself, but silent for 31 s
    await redis_client.zadd("rides:geo:default:seen", {str(silent): time.time() - 31})
    await online(geo, pinging, north_of(PICKUP, 3))
    trip_id = await committed_trip(committed_session, rider)
    await trip_requests.publish(trip_id)
    async with (
        drivers_answering(sessions, offers, geo, redis_client, [silent, pinging]) as seen,
        dispatching(make_dispatcher("d1")),
    ):
        [trip] = await decided(committed_session, [trip_id])
    assert trip.driver_id == pinging
    assert len(seen) == 1


async def test_a_dispatcher_killed_holding_the_lease_is_taken_over_once_it_lapses(
    *,
    committed_session: AsyncSession,
    make_dispatcher: Callable[[str], Dispatcher],
    sessions: async_sessionmaker[AsyncSession],
    offers: Offers,
    geo: GeoIndex,
    redis_client: Redis,
    settings: Settings,
    trip_requests: TripRequests,
) -> None:
    [rider] = await committed_users(committed_session, Role.RIDER, 1)
    [driver] = await committed_users(committed_session, Role.DRIVER, 1)
    await online(geo, driver)
    trip_id = await committed_trip(committed_session, rider)
    await trip_requests.publish(trip_id)
    # The dead dispatcher read the entry and took the lease, then died: never acknowledged.
    assert await trip_requests.read("dead", count=1, block_ms=None)
    assert await trip_lease(redis_client, trip_id, settings.lease_seconds).acquire()

    survivor = make_dispatcher("survivor")
    async with drivers_answering(sessions, offers, geo, redis_client, [driver]) as seen:
        await survivor.step()  # too early: the entry is not idle long enough, the lease held
        assert seen == []
        async with dispatching(survivor):
            [trip] = await decided(committed_session, [trip_id])
    assert (trip.status, trip.driver_id) == (TripStatus.DRIVER_ASSIGNED, driver)
    assert len(seen) == 1
    pending = await redis_client.xpending(STREAM, GROUP)
    assert pending["pending"] == 0


async def test_concurrent_requests_and_few_drivers_never_double_assign(
    *,
    committed_session: AsyncSession,
    make_dispatcher: Callable[[str], Dispatcher],
    sessions: async_sessionmaker[AsyncSession],
    offers: Offers,
    geo: GeoIndex,
    redis_client: Redis,
    trip_requests: TripRequests,
) -> None:
    riders = await committed_users(committed_session, Role.RIDER, 40)
    drivers = await committed_users(committed_session, Role.DRIVER, 6)
    for number, driver_id in enumerate(drivers):
        await online(geo, driver_id, north_of(PICKUP, 0.05 * number))
    trip_ids = [await committed_trip(committed_session, rider) for rider in riders]
    await asyncio.gather(*(trip_requests.publish(trip_id) for trip_id in trip_ids))
    async with (
        drivers_answering(sessions, offers, geo, redis_client, drivers),
        dispatching(make_dispatcher("d1"), make_dispatcher("d2"), make_dispatcher("d3")),
    ):
        trips = await decided(committed_session, trip_ids)

    assigned = [trip for trip in trips if trip.status is TripStatus.DRIVER_ASSIGNED]
    assert sorted(trip.driver_id or 0 for trip in assigned) == sorted(drivers)  # each one trip
    others = [trip for trip in trips if trip.status is not TripStatus.DRIVER_ASSIGNED]
    assert all(trip.cancelled_by is CancelledBy.DISPATCH for trip in others)
    active_per_driver = await committed_session.execute(
        select(Trip.driver_id, func.count())
        .where(Trip.status.in_([TripStatus.DRIVER_ASSIGNED]))
        .group_by(Trip.driver_id)
    )
    assert all(count == 1 for _, count in active_per_driver)

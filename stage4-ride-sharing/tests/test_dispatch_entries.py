"""What a trip's stream entry carries: its pickup, so that the dispatcher searches for
drivers without reading the trip first. An entry queued before the pickup was carried is
matched all the same, and a trip cancelled while its entry waited is not left offered."""

import asyncio
import json

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rides.config import Settings
from rides.dispatch.dispatcher import Dispatcher
from rides.dispatch.offers import Offers, driver_channel
from rides.geo.index import GeoIndex
from rides.models import CancelledBy, Role, Trip, TripStatus
from rides.streams import GROUP, STREAM, TripRequests
from tests.conftest import make_settings
from tests.factories import PICKUP, committed_trip, committed_users, north_of
from tests.live import dispatching
from tests.test_dispatch import decided, drivers_answering, online

# Far longer than any test waits: an offer left out stays out for all of it.
OFFER_SECONDS = 30


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(database_url, redis_url, offer_seconds=OFFER_SECONDS)


@pytest.fixture
def dispatcher(
    *,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    redis_client: Redis,
    geo: GeoIndex,
    offers: Offers,
    trip_requests: TripRequests,
) -> Dispatcher:
    return Dispatcher(
        settings=settings,
        sessions=sessions,
        redis=redis_client,
        geo=geo,
        offers=offers,
        queue=trip_requests,
        name="d1",
    )


async def frame_types(channel: PubSub, count: int) -> list[str]:
    """The types of the next `count` frames published to a driver."""
    types: list[str] = []
    while len(types) < count:
        message = await channel.get_message(ignore_subscribe_messages=True, timeout=1)
        if message is not None:
            types.append(json.loads(message["data"])["type"])
    return types


async def test_an_entry_queued_without_the_pickup_is_still_matched(
    *,
    committed_session: AsyncSession,
    dispatcher: Dispatcher,
    sessions: async_sessionmaker[AsyncSession],
    offers: Offers,
    geo: GeoIndex,
    redis_client: Redis,
) -> None:
    """An entry as they were written before the pickup was carried: the trip id alone.
    The dispatcher reads the pickup from the trip instead."""
    [rider] = await committed_users(committed_session, Role.RIDER, 1)
    [driver] = await committed_users(committed_session, Role.DRIVER, 1)
    await online(geo, driver, north_of(PICKUP, 0.2))
    trip_id = await committed_trip(committed_session, rider)
    await redis_client.xadd(STREAM, {"trip_id": trip_id})
    async with (
        drivers_answering(sessions, offers, geo, redis_client, [driver]) as seen,
        dispatching(dispatcher),
    ):
        [trip] = await decided(committed_session, [trip_id])
    assert (trip.status, trip.driver_id) == (TripStatus.DRIVER_ASSIGNED, driver)
    assert len(seen) == 1


async def test_the_search_starts_from_the_pickup_in_the_entry(
    *,
    committed_session: AsyncSession,
    dispatcher: Dispatcher,
    sessions: async_sessionmaker[AsyncSession],
    offers: Offers,
    geo: GeoIndex,
    redis_client: Redis,
    trip_requests: TripRequests,
) -> None:
    """The entry and the trip name the same pickup in the app; here they are 3 km apart,
    a driver at each, to tell which one the dispatcher searched from."""
    [rider] = await committed_users(committed_session, Role.RIDER, 1)
    at_trips_pickup, at_entrys_pickup = await committed_users(committed_session, Role.DRIVER, 2)
    entrys_pickup = north_of(PICKUP, 3)
    await online(geo, at_trips_pickup, PICKUP)
    await online(geo, at_entrys_pickup, entrys_pickup)
    trip_id = await committed_trip(committed_session, rider)
    await trip_requests.publish(trip_id, pickup=(entrys_pickup["lat"], entrys_pickup["lng"]))
    async with (
        drivers_answering(
            sessions, offers, geo, redis_client, [at_trips_pickup, at_entrys_pickup]
        ) as seen,
        dispatching(dispatcher),
    ):
        [trip] = await decided(committed_session, [trip_id])
    assert (trip.status, trip.driver_id) == (TripStatus.DRIVER_ASSIGNED, at_entrys_pickup)
    assert len(seen) == 1


async def test_a_trip_cancelled_while_queued_is_withdrawn_from_its_driver_at_once(
    *,
    committed_session: AsyncSession,
    dispatcher: Dispatcher,
    offers: Offers,
    geo: GeoIndex,
    redis_client: Redis,
    trip_requests: TripRequests,
) -> None:
    """The rider cancelled before any dispatcher took the entry (the cancellation's own
    withdrawal found no offer then). The pickup in the entry says nothing of that: the
    offer goes out, the trip is read, and the offer is withdrawn at once, not left to
    hold the driver for its 30 seconds."""
    [rider] = await committed_users(committed_session, Role.RIDER, 1)
    [driver] = await committed_users(committed_session, Role.DRIVER, 1)
    await online(geo, driver)
    trip_id = await committed_trip(committed_session, rider)
    await trip_requests.publish(trip_id, pickup=(PICKUP["lat"], PICKUP["lng"]))
    await committed_session.execute(
        update(Trip)
        .where(Trip.id == trip_id)
        .values(status=TripStatus.CANCELLED, cancelled_by=CancelledBy.RIDER)
    )
    await committed_session.commit()
    channel = redis_client.pubsub()
    await channel.subscribe(driver_channel(driver))
    try:
        await asyncio.wait_for(dispatcher.step(), timeout=OFFER_SECONDS / 3)
        told = await asyncio.wait_for(frame_types(channel, 2), timeout=5)
    finally:
        await channel.aclose()  # type: ignore[no-untyped-call]
    assert told == ["offer", "offer_withdrawn"]
    assert await offers.pending_for(driver) is None
    assert (await redis_client.xpending(STREAM, GROUP))["pending"] == 0
    [trip] = await decided(committed_session, [trip_id])
    assert trip.cancelled_by is CancelledBy.RIDER

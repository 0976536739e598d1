"""A dispatcher outlives an outage of Redis: its steps fail while Redis hangs, and it
matches trips again once Redis answers, without anyone restarting it. Redis here is a
server of this module's own (`private_redis`), hung with SIGSTOP; the shared one is never
touched."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest_asyncio
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rides.config import Settings
from rides.dispatch.dispatcher import Dispatcher
from rides.dispatch.offers import Offers
from rides.geo.index import GeoIndex
from rides.models import Role, TripStatus
from rides.streams import TripRequests
from roadmap_shared.testing.private_servers import PrivateRedis
from tests.factories import committed_trip, committed_users
from tests.test_dispatch import decided, drivers_answering, make_dispatcher, online, settings

__all__ = ["make_dispatcher", "settings"]

# Below the hang, so that the dispatcher's steps fail while it lasts.
SOCKET_TIMEOUT_SECONDS = 0.3
HANG_SECONDS = 1.5


@pytest_asyncio.fixture
async def redis_client(private_redis: PrivateRedis) -> AsyncIterator[Redis]:
    client: Redis = Redis.from_url(
        private_redis.url,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
    )
    await client.flushdb()
    yield client
    await client.aclose()


async def test_a_dispatcher_outlives_a_hung_redis_and_matches_once_it_answers(
    *,
    committed_session: AsyncSession,
    make_dispatcher: Callable[[str], Dispatcher],
    sessions: async_sessionmaker[AsyncSession],
    offers: Offers,
    geo: GeoIndex,
    redis_client: Redis,
    trip_requests: TripRequests,
    private_redis: PrivateRedis,
    settings: Settings,
) -> None:
    [rider] = await committed_users(committed_session, Role.RIDER, 1)
    [driver] = await committed_users(committed_session, Role.DRIVER, 1)
    stop = asyncio.Event()
    running = asyncio.create_task(make_dispatcher("survivor").run(stop))
    try:
        await asyncio.sleep(0.2)  # it is stepping
        private_redis.pause()
        try:
            began = time.monotonic()
            while time.monotonic() - began < HANG_SECONDS:
                await asyncio.sleep(0.1)
                assert not running.done(), "the dispatcher ended with the outage"
        finally:
            private_redis.resume()

        await online(geo, driver)
        trip_id = await committed_trip(committed_session, rider)
        await trip_requests.publish(trip_id)
        async with drivers_answering(sessions, offers, geo, redis_client, [driver]):
            [trip] = await decided(committed_session, [trip_id])
        assert (trip.status, trip.driver_id) == (TripStatus.DRIVER_ASSIGNED, driver)
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)

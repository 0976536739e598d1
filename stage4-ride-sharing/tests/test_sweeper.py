"""The sweeper: a trip committed without its stream entry (Redis failed right after the
commit) is queued again, once, however many sweepers run at once, and matched once; a
trip queued as usual, or too recent, is left alone."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rides.config import Settings
from rides.dispatch.dispatcher import Dispatcher
from rides.dispatch.offers import Offers
from rides.dispatch.sweeper import Sweeper
from rides.geo.index import GeoIndex
from rides.models import Role, Trip, TripStatus
from rides.streams import STREAM, Entry, TripRequests
from tests.factories import committed_trip, committed_users
from tests.live import dispatching
from tests.test_dispatch import decided, drivers_answering, online

REQUEUE_AFTER_SECONDS = 5


@pytest.fixture
def sweeper(sessions: async_sessionmaker[AsyncSession], trip_requests: TripRequests) -> Sweeper:
    return Sweeper(
        sessions=sessions, queue=trip_requests, requeue_after_seconds=REQUEUE_AFTER_SECONDS
    )


async def requested_a_minute_ago(session: AsyncSession, rider_id: int) -> int:
    """A trip committed a minute ago, and never queued."""
    trip_id = await committed_trip(session, rider_id)
    await session.execute(
        update(Trip)
        .where(Trip.id == trip_id)
        .values(created_at=Trip.created_at - timedelta(minutes=1))
    )
    await session.commit()
    return trip_id


async def test_a_lost_trip_is_queued_once_and_matched_once(
    *,
    committed_session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    sweeper: Sweeper,
    settings: Settings,
    redis_client: Redis,
    geo: GeoIndex,
    offers: Offers,
    trip_requests: TripRequests,
) -> None:
    [rider] = await committed_users(committed_session, Role.RIDER, 1)
    [driver] = await committed_users(committed_session, Role.DRIVER, 1)
    await online(geo, driver)
    trip_id = await requested_a_minute_ago(committed_session, rider)

    # Three sweepers at once (each worker runs one), and one more afterwards.
    other = Sweeper(sessions=sessions, queue=trip_requests, requeue_after_seconds=1)
    swept = [*await asyncio.gather(sweeper.sweep(), sweeper.sweep(), other.sweep())]
    swept.append(await sweeper.sweep())
    assert sorted(trip for ids in swept for trip in ids) == [trip_id]
    assert await redis_client.xlen(STREAM) == 1

    dispatcher = Dispatcher(
        settings=settings,
        sessions=sessions,
        redis=redis_client,
        geo=geo,
        offers=offers,
        queue=trip_requests,
        name="d1",
    )
    async with (
        drivers_answering(sessions, offers, geo, redis_client, [driver]) as seen,
        dispatching(dispatcher),
    ):
        [trip] = await decided(committed_session, [trip_id])
    assert (trip.status, trip.driver_id) == (TripStatus.DRIVER_ASSIGNED, driver)
    assert len(seen) == 1  # offered once
    assert await sweeper.sweep() == []


async def test_a_trip_queued_as_usual_is_left_alone(
    committed_session: AsyncSession,
    sweeper: Sweeper,
    redis_client: Redis,
    trip_requests: TripRequests,
) -> None:
    """Waiting in the stream for a dispatcher (a long queue), not lost."""
    [rider] = await committed_users(committed_session, Role.RIDER, 1)
    trip_id = await requested_a_minute_ago(committed_session, rider)
    assert await trip_requests.publish(trip_id)  # as the request does after its commit
    assert await sweeper.sweep() == []
    assert await redis_client.xlen(STREAM) == 1


async def test_a_recent_trip_is_left_alone(
    committed_session: AsyncSession, sweeper: Sweeper, redis_client: Redis
) -> None:
    """Its request may not have queued it yet: it is committed before it is queued."""
    [rider] = await committed_users(committed_session, Role.RIDER, 1)
    await committed_trip(committed_session, rider)
    assert await sweeper.sweep() == []
    assert await redis_client.xlen(STREAM) == 0


async def test_the_stream_keeps_only_what_is_pending_or_not_yet_delivered(
    redis_client: Redis, trip_requests: TripRequests
) -> None:
    for round_number in range(5):
        for trip_id in range(20):
            await trip_requests.publish(round_number * 100 + trip_id)
        entries = await trip_requests.read("d1", count=100, block_ms=None)
        assert len(entries) == 20
        for entry in entries:
            await trip_requests.ack(entry)
        await trip_requests.trim()
        assert await redis_client.xlen(STREAM) <= 1  # the last delivered one, at most
    # One entry still pending, and five never delivered: kept, and everything after them.
    for trip_id in range(1000, 1010):
        await trip_requests.publish(trip_id)
    first, *others = await trip_requests.read("d1", count=5, block_ms=None)
    for entry in others:
        await trip_requests.ack(entry)
    await trip_requests.trim()
    assert await redis_client.xlen(STREAM) == 10
    await trip_requests.ack(first)
    await trip_requests.trim()
    assert await redis_client.xlen(STREAM) == 6
    assert [entry.trip_id for entry in await trip_requests.read("d2", count=10, block_ms=None)] == [
        1005,
        1006,
        1007,
        1008,
        1009,
    ]


async def test_a_stream_without_its_group_is_left_whole(
    redis_client: Redis, trip_requests: TripRequests
) -> None:
    """Redis lost everything and a publish made the stream anew, without the group: the
    sweep must neither cut what no dispatcher has read nor stop the worker."""
    await redis_client.delete(STREAM)
    await trip_requests.publish(1)

    assert await trip_requests.trim() == 0
    assert await redis_client.xlen(STREAM) == 1


async def test_entries_delivered_while_the_trim_reads_the_group_are_kept(
    redis_client: Redis, trip_requests: TripRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dispatcher is handed two entries between the trim's two reads of the group: they
    are pending, so both stay (a dispatcher that dies leaves them to be claimed)."""
    for trip_id in range(3):
        await trip_requests.publish(trip_id)
    for entry in await trip_requests.read("d1", count=1, block_ms=None):
        await trip_requests.ack(entry)
    delivered: list[Entry] = []

    def then_deliver(read: Callable[..., Awaitable[object]]) -> Callable[..., Awaitable[object]]:
        async def read_then_deliver(*args: object) -> object:
            answer = await read(*args)
            if not delivered:  # after the first of the two reads, whichever it is
                delivered.extend(await trip_requests.read("d2", count=2, block_ms=None))
            return answer

        return read_then_deliver

    monkeypatch.setattr(redis_client, "xinfo_groups", then_deliver(redis_client.xinfo_groups))
    monkeypatch.setattr(redis_client, "xpending", then_deliver(redis_client.xpending))
    await trip_requests.trim()

    kept = {
        entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        for entry_id, _ in await redis_client.xrange(STREAM)
    }
    assert {entry.id for entry in delivered} <= kept


async def test_a_sweep_trims_the_stream(
    redis_client: Redis, trip_requests: TripRequests, sweeper: Sweeper
) -> None:
    for trip_id in range(30):
        await trip_requests.publish(trip_id)
    for entry in await trip_requests.read("d1", count=30, block_ms=None):
        await trip_requests.ack(entry)
    await sweeper.sweep()
    assert await redis_client.xlen(STREAM) <= 1

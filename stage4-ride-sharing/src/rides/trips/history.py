"""Where a driver's pings go while they have a trip, without PostgreSQL on every ping.

A driver pings every few seconds, whether or not they have a trip; looking up their trip
in PostgreSQL at each ping cost four fifths of a ping's CPU. So the trip is kept in Redis
instead: a pointer `…:driver:<id>:trip` set when the driver's accept has committed, and
deleted (only if it still names that trip) once the trip's end has. While it is there,
each ping is appended to the trip's list, by the script that records the position
(`rides.drivers.pings`).

Redis is not where a history may end, though: it keeps no copy on disk here, and evicts
keys when memory runs short. So while the ride goes on, the flusher in the worker
(`rides.trips.flusher`) writes each in-progress trip's new pings to `trip_pings` every
few seconds, and then removes them from the list; completing the trip reads what is left,
keeps the pings since the rider got on board (the pointer is set at assignment, a little
before the driver's move to `in_progress` is known here), and writes those, in the
transaction that sets the fare from them all. A restart or an eviction mid-ride loses at
most the pings of the last few seconds: the flusher also sets the driver's pointer again,
so the pings after it are recorded. PostgreSQL sees one write per trip every few
seconds instead of one per ping, and both writers go through the same watermark (the
newest ping stored for the trip), so no ping is written twice.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis

from rides.awaited import awaited

# Longer than any trip: a pointer whose delete failed (Redis unreachable just then) goes
# by itself, and so does a list a finished trip left behind.
KEEP_SECONDS = 12 * 3600


# The pointer is deleted only if it still names the trip that ended, compared and deleted
# in one step: a `GET` then `DEL` could delete the pointer to the driver's next trip, set
# in between.
FORGET_TRIP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True)
class Ping:
    lat: float
    lng: float
    at: datetime


def driver_trip_key(driver_id: int) -> str:
    return f"rides:driver:{driver_id}:trip"


# A `%s` for the trip id, filled in by Python and by the ping's script alike.
PINGS_KEY = "rides:trip:%s:pings"


def _pings_key(trip_id: int) -> str:
    return PINGS_KEY % trip_id


async def assigned(redis: Redis, driver_id: int, trip_id: int) -> None:
    """Call once the assignment has committed."""
    await redis.set(driver_trip_key(driver_id), trip_id, ex=KEEP_SECONDS)


async def point_to(redis: Redis, trips_by_driver: dict[int, int]) -> None:
    """Sets again, in one round trip, the pointers of drivers whose trip is in progress
    (under the trip's row lock, so its end cannot be committed meanwhile)."""
    async with redis.pipeline(transaction=False) as pipe:
        for driver_id, trip_id in trips_by_driver.items():
            pipe.set(driver_trip_key(driver_id), trip_id, ex=KEEP_SECONDS)
        await pipe.execute()


async def ended(redis: Redis, driver_id: int, trip_id: int) -> None:
    """Call once the trip's end has committed. A compare-and-delete: a late call for a
    driver's previous trip leaves the pointer to their next one alone."""
    forget = redis.register_script(FORGET_TRIP)
    await forget(keys=[driver_trip_key(driver_id)], args=[str(trip_id)])
    await redis.delete(_pings_key(trip_id))


def _since(raw: Sequence[bytes | str], since: datetime) -> list[Ping]:
    pings = []
    for entry in raw:
        lat, lng, at = json.loads(entry)
        when = datetime.fromtimestamp(at, UTC)
        if when >= since:
            pings.append(Ping(lat, lng, when))
    return pings


async def pings_since(redis: Redis, trip_id: int, since: datetime) -> list[Ping]:
    """The trip's pings still in Redis from `since` on, oldest first."""
    return _since(await awaited(redis.lrange(_pings_key(trip_id), 0, -1)), since)


@dataclass(frozen=True)
class Unflushed:
    """What a flush read of one trip's list: its pings since the pickup, and how far it
    read (the number of entries and the last one), to remove them once they are stored."""

    trip_id: int
    pings: list[Ping]
    read: int
    last: bytes | str | None


async def unflushed(redis: Redis, started: dict[int, datetime]) -> list[Unflushed]:
    """The pings in Redis of each trip in `started` (trip id: its pickup time), in one
    round trip."""
    async with redis.pipeline(transaction=False) as pipe:
        for trip_id in started:
            pipe.lrange(_pings_key(trip_id), 0, -1)
        lists = await pipe.execute()
    return [
        Unflushed(trip_id, _since(raw, since), len(raw), raw[-1] if raw else None)
        for (trip_id, since), raw in zip(started.items(), lists, strict=True)
    ]


# Removes the first ARGV[1] entries, if the last of them is still ARGV[2]: a list evicted
# and begun again since it was read holds new pings there, and keeps them.
FORGET_FLUSHED = """
if redis.call('LINDEX', KEYS[1], ARGV[1] - 1) == ARGV[2] then
    return redis.call('LTRIM', KEYS[1], ARGV[1], -1)
end
return 0
"""


async def forget_flushed(redis: Redis, flushed: Sequence[Unflushed]) -> None:
    """Call once the pings read are committed to `trip_pings`: Redis keeps only newer ones."""
    forget = redis.register_script(FORGET_FLUSHED)
    async with redis.pipeline(transaction=False) as pipe:
        for read in flushed:
            if read.last is not None:
                key = _pings_key(read.trip_id)
                await forget(keys=[key], args=[read.read, read.last], client=pipe)
        await pipe.execute()

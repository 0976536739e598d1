"""Where a driver's pings go while they have a trip, without PostgreSQL on every ping.

A driver pings every few seconds, whether or not they have a trip; looking up their trip
in PostgreSQL at each ping cost four fifths of a ping's CPU. So the trip is kept in Redis
instead: a pointer `…:driver:<id>:trip` set when the driver's accept has committed, and
deleted (only if it still names that trip) once the trip's end has. While it is there,
each ping is appended to the trip's list, by the script that records the position
(`rides.drivers.pings`).

The list is the trip's history until the trip ends: completing the trip reads it, keeps
the pings since the rider got on board (the pointer is set at assignment, a little before
the driver's move to `in_progress` is known here), writes them to `trip_pings` in one
statement, in the transaction that sets the fare from them. So PostgreSQL sees one write
per trip instead of one per ping, and no ping of the ride is left out of the fare.
"""

import json
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


async def ended(redis: Redis, driver_id: int, trip_id: int) -> None:
    """Call once the trip's end has committed. A compare-and-delete: a late call for a
    driver's previous trip leaves the pointer to their next one alone."""
    forget = redis.register_script(FORGET_TRIP)
    await forget(keys=[driver_trip_key(driver_id)], args=[str(trip_id)])
    await redis.delete(_pings_key(trip_id))


async def pings_since(redis: Redis, trip_id: int, since: datetime) -> list[Ping]:
    """The trip's pings from `since` on, oldest first."""
    pings = []
    for raw in await awaited(redis.lrange(_pings_key(trip_id), 0, -1)):
        lat, lng, at = json.loads(raw)
        when = datetime.fromtimestamp(at, UTC)
        if when >= since:
            pings.append(Ping(lat, lng, when))
    return pings

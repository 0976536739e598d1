"""What a rider's socket hears about a trip: its state at every transition, and the
assigned driver's position at every ping, published on the trip's Redis pub/sub channel
(which only the instance holding the rider's socket listens to).

A state is published only once its transaction has committed. Published before, it could
announce a change that then rolls back; and a socket that subscribed in between and then
read the trip from PostgreSQL would read the old state, and never hear the new one again.
After the commit, a socket that subscribes and then reads misses nothing: a change is
either committed before its read (and read), or published after its subscription (and
heard), or both (and sent twice, with the same version, which the socket drops).

Pub/sub delivers at most once: a message published while a socket is reconnecting is
lost, and the reconnecting socket's first read is what makes up for it.
"""

import json
import time
from typing import Any

from redis.asyncio import Redis

from rides.models import Trip
from rides.trips.schemas import TripPublic


def trip_channel(trip_id: int) -> str:
    return f"rides:trip:{trip_id}:updates"


def state_frame(trip: Trip) -> dict[str, Any]:
    return {"type": "trip", "trip": TripPublic.of(trip).model_dump(mode="json")}


async def publish_state(redis: Redis, trip: Trip) -> None:
    """Call only once the change to `trip` has committed (see the module's docstring)."""
    await redis.publish(trip_channel(trip.id), json.dumps(state_frame(trip)))


async def publish_position(redis: Redis, trip_id: int, lat: float, lng: float) -> None:
    frame = {
        "type": "driver_position",
        "trip_id": trip_id,
        "lat": lat,
        "lng": lng,
        "at": round(time.time(), 3),
    }
    await redis.publish(trip_channel(trip_id), json.dumps(frame))

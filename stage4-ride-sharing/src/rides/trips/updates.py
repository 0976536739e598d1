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
lost, and the reconnecting socket's first read is what makes up for it. A publish that
fails (Redis unreachable) is logged and let go, not raised: the change is committed and
stands, and the rider's socket reads the trip again at its next heartbeat.
"""

import json
import logging
import time
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from rides.models import Trip
from rides.trips.schemas import TripPublic

logger = logging.getLogger(__name__)


def trip_channel(trip_id: int) -> str:
    return f"rides:trip:{trip_id}:updates"


def state_frame(trip: Trip) -> dict[str, Any]:
    return {"type": "trip", "trip": TripPublic.of(trip).model_dump(mode="json")}


async def publish_state(redis: Redis, trip: Trip) -> None:
    """Call only once the change to `trip` has committed (see the module's docstring)."""
    await _publish(redis, trip.id, state_frame(trip))


async def publish_position(redis: Redis, trip_id: int, lat: float, lng: float) -> None:
    frame = {
        "type": "driver_position",
        "trip_id": trip_id,
        "lat": lat,
        "lng": lng,
        "at": round(time.time(), 3),
    }
    await _publish(redis, trip_id, frame)


async def _publish(redis: Redis, trip_id: int, frame: dict[str, Any]) -> None:
    try:
        await redis.publish(trip_channel(trip_id), json.dumps(frame))
    except RedisError:
        logger.warning("trip update not published", extra={"trip_id": trip_id}, exc_info=True)

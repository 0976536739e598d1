"""A ping's speed check (`rides.drivers.pings`), against Redis: the speed is the distance
between two positions over the time between them, whatever heartbeats came in between."""

import time

from redis.asyncio import Redis

from rides.drivers.pings import Pings
from rides.geo.index import GeoIndex
from tests.factories import PICKUP, north_of

MAX_SPEED_KMH = 200.0


async def test_a_heartbeat_between_two_pings_does_not_shorten_the_time_between_them(
    redis_client: Redis, geo: GeoIndex
) -> None:
    pings = Pings(redis_client, geo, max_speed_kmh=MAX_SPEED_KMH)
    now = time.time()
    assert await pings.record(7, PICKUP["lat"], PICKUP["lng"], now - 10) == 0
    await geo.touch(7)  # a heartbeat, just now
    # 300 m in the 10 s since the last position: 108 km/h, a car can do it.
    moved = north_of(PICKUP, 0.3)
    assert await pings.record(7, moved["lat"], moved["lng"], now) == 0


async def test_a_jump_no_car_could_make_is_refused_and_leaves_the_position(
    redis_client: Redis, geo: GeoIndex
) -> None:
    pings = Pings(redis_client, geo, max_speed_kmh=MAX_SPEED_KMH)
    now = time.time()
    assert await pings.record(8, PICKUP["lat"], PICKUP["lng"], now - 10) == 0
    # 3 km in 10 s: 1,080 km/h.
    far = north_of(PICKUP, 3.0)
    assert await pings.record(8, far["lat"], far["lng"], now) is None
    last = await geo.last_seen(8)
    assert last is not None
    assert (round(last[0], 5), round(last[1], 5)) == (PICKUP["lat"], PICKUP["lng"])

"""The geo index: the nearest available, fresh drivers, found by widening the radius."""

import time
from functools import partial

import pytest
from pydantic import ValidationError
from redis.asyncio import Redis

from rides.awaited import awaited
from rides.geo.index import GeoIndex
from tests.conftest import make_settings
from tests.factories import PICKUP, north_of

RADII = [0.5, 1.0, 2.0, 5.0]


async def online(geo: GeoIndex, driver_id: int, point: dict[str, float]) -> None:
    await geo.record(driver_id, point["lat"], point["lng"])
    await geo.set_available(driver_id, True)


async def nearest_ids(geo: GeoIndex, count: int = 10) -> list[int]:
    found = await geo.nearest(PICKUP["lat"], PICKUP["lng"], radii_km=RADII, count=count)
    return [candidate.driver_id for candidate in found]


async def test_the_search_widens_until_it_finds_someone(geo: GeoIndex) -> None:
    await online(geo, 1, north_of(PICKUP, 4.0))
    await online(geo, 2, north_of(PICKUP, 1.5))
    # Nobody within 0.5 or 1 km; within 2 km only driver 2, so driver 1 is not looked at.
    assert await nearest_ids(geo) == [2]


async def test_the_nearest_come_first_and_count_caps_them(geo: GeoIndex) -> None:
    for driver_id, km in [(1, 0.3), (2, 0.1), (3, 0.2)]:
        await online(geo, driver_id, north_of(PICKUP, km))
    assert await nearest_ids(geo) == [2, 3, 1]
    assert await nearest_ids(geo, count=2) == [2, 3]


async def test_beyond_the_widest_radius_nobody_is_found(geo: GeoIndex) -> None:
    await online(geo, 1, north_of(PICKUP, 6.0))
    assert await nearest_ids(geo) == []


async def test_the_search_looks_past_a_full_count_of_busy_drivers(geo: GeoIndex) -> None:
    # Twelve busy drivers nearer than the one free driver: a search that asked for the ten
    # nearest at each radius would find the same ten busy ones every time.
    for driver_id in range(1, 13):
        await online(geo, driver_id, north_of(PICKUP, 0.01 * driver_id))
        await geo.set_available(driver_id, False)
    await online(geo, 13, north_of(PICKUP, 0.3))
    assert await nearest_ids(geo, count=10) == [13]


async def test_the_search_looks_past_a_full_count_of_excluded_drivers(geo: GeoIndex) -> None:
    for driver_id in range(1, 5):
        await online(geo, driver_id, north_of(PICKUP, 0.01 * driver_id))
    found = await geo.nearest(
        PICKUP["lat"], PICKUP["lng"], radii_km=RADII, count=2, exclude=frozenset({1, 2, 3})
    )
    assert [candidate.driver_id for candidate in found] == [4]


async def test_an_unavailable_driver_is_not_a_candidate(geo: GeoIndex) -> None:
    await online(geo, 1, PICKUP)
    await geo.set_available(1, False)
    assert await nearest_ids(geo) == []


async def test_a_driver_whose_pings_stopped_is_not_a_candidate(
    geo: GeoIndex, redis_client: Redis
) -> None:
    await online(geo, 1, PICKUP)
    await online(geo, 2, north_of(PICKUP, 0.3))
    # Driver 1, the nearest, last pinged 31 s ago: the heartbeat timeout is 30 s.
    await redis_client.zadd("rides:geo:default:seen", {"1": time.time() - 31})
    assert await nearest_ids(geo) == [2]
    assert await geo.prune() == 1
    assert await geo.last_seen(1) is None
    assert await awaited(redis_client.sismember("rides:geo:default:available", "1")) == 0


async def test_a_heartbeat_keeps_a_driver_fresh(geo: GeoIndex, redis_client: Redis) -> None:
    await online(geo, 1, PICKUP)
    await redis_client.zadd("rides:geo:default:seen", {"1": time.time() - 31})
    await geo.touch(1)
    assert await nearest_ids(geo) == [1]


async def test_the_search_gives_up_after_its_steps_however_many_drivers_are_busy(
    geo: GeoIndex,
) -> None:
    """Forty busy drivers nearer than the one free driver: with two asked for at first and
    three steps (2, 4, 8 drivers looked at), the search stops short of the free one."""
    for driver_id in range(1, 41):
        await online(geo, driver_id, north_of(PICKUP, 0.005 * driver_id))
        await geo.set_available(driver_id, False)
    await online(geo, 41, north_of(PICKUP, 0.3))
    nearest = partial(geo.nearest, PICKUP["lat"], PICKUP["lng"], radii_km=RADII, count=2)
    assert await nearest(max_steps=3) == []
    found = await nearest(max_steps=6)  # 2 to 64: past the forty
    assert [candidate.driver_id for candidate in found] == [41]


def test_the_search_radii_are_bounded_and_widen(database_url: str, redis_url: str) -> None:
    for radii in ([], [0.5, 1000.0], [2.0, 1.0], [1.0, 1.0], [0.5 * n for n in range(1, 11)]):
        with pytest.raises(ValidationError):
            make_settings(database_url, redis_url, search_radii_km=radii)
    assert make_settings(database_url, redis_url, search_radii_km=[1, 3]).search_radii_km == [1, 3]

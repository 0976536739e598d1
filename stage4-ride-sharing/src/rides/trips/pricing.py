"""Quotes and fares: a distance and duration estimate, and surge per H3 cell.

The city is cut into H3 hexagons (resolution 8: about 0.7 km² each). Demand is the trips
requested in a cell over the last ten minutes, counted in Redis; supply is the available
drivers near its centre. More demand than supply raises the price, capped."""

import itertools
import math
from dataclasses import dataclass

import h3
from redis.asyncio import Redis
from redis.exceptions import RedisError

from rides.config import Settings
from rides.geo.distance import haversine_km
from rides.geo.index import GeoIndex
from roadmap_shared.errors import ServiceUnavailable
from roadmap_shared.outages import RETRY_AFTER_SECONDS

SURGE_RESOLUTION = 8
DEMAND_WINDOW_SECONDS = 600
MAX_SURGE = 3.0
# Roads are longer than the straight line between two points.
ROAD_FACTOR = 1.3


@dataclass(frozen=True)
class Estimate:
    distance_km: float
    duration_minutes: float
    surge: float
    fare_cents: int
    cell: str


def fare_cents(settings: Settings, distance_km: float, minutes: float, surge: float) -> int:
    raw = settings.base_fare_cents + settings.per_km_cents * distance_km
    raw += settings.per_minute_cents * minutes
    return math.ceil(raw * surge)


def _demand_key(cell: str) -> str:
    return f"rides:demand:{cell}"


async def record_demand(redis: Redis, lat: float, lng: float) -> None:
    key = _demand_key(h3.latlng_to_cell(lat, lng, SURGE_RESOLUTION))
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, DEMAND_WINDOW_SECONDS, nx=True)
        await pipe.execute()


async def surge_for(redis: Redis, geo: GeoIndex, cell: str) -> float:
    demand = int(await redis.get(_demand_key(cell)) or 0)
    lat, lng = h3.cell_to_latlng(cell)
    supply = len(await geo.nearest(lat, lng, radii_km=[1.0], count=50))
    if demand <= supply:
        return 1.0
    return min(MAX_SURGE, round(demand / max(supply, 1), 1))


async def estimate(
    settings: Settings,
    redis: Redis,
    geo: GeoIndex,
    pickup: tuple[float, float],
    dropoff: tuple[float, float],
) -> Estimate:
    """The quote. Surge needs Redis: without it there is no honest price, so 503 (with
    `Retry-After`) rather than a quote that may be far too low."""
    try:
        return await _estimate(settings, redis, geo, pickup, dropoff)
    except RedisError as down:
        raise ServiceUnavailable(
            "Prices cannot be computed right now", retry_after_seconds=RETRY_AFTER_SECONDS
        ) from down


async def _estimate(
    settings: Settings,
    redis: Redis,
    geo: GeoIndex,
    pickup: tuple[float, float],
    dropoff: tuple[float, float],
) -> Estimate:
    distance = haversine_km(*pickup, *dropoff) * ROAD_FACTOR
    minutes = distance / settings.average_speed_kmh * 60
    cell = h3.latlng_to_cell(*pickup, SURGE_RESOLUTION)
    surge = await surge_for(redis, geo, cell)
    return Estimate(
        distance_km=round(distance, 3),
        duration_minutes=round(minutes, 1),
        surge=surge,
        fare_cents=fare_cents(settings, distance, minutes, surge),
        cell=cell,
    )


def travelled_km(pings: list[tuple[float, float]]) -> float:
    return sum(haversine_km(*a, *b) for a, b in itertools.pairwise(pings))

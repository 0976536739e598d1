"""Stage 4 ride-sharing benchmark: the geo index, which every ping and every match uses.

Pings: `GeoIndex.record` (a GEOADD and a ZADD in one transaction) from one connection.
Search: `GeoIndex.nearest` (GEOSEARCH with COUNT, widening 0.5 → 1 → 2 → 5 km, then the
availability and freshness of the candidates) in a city of 10,000 and of 100,000 drivers
spread over a 20 km square, half of them available. Each is a ratio to a Redis `PING` on
the same connection, so the numbers compare across machines.

It needs Redis, found like the tests find it (`TEST_REDIS_URL`), uses keys of its own city
in a logical database no suite uses, and deletes them at the end. Run from the stage
folder: `uv run --no-sync python benchmarks/bench.py` (`make bench`).
"""

import asyncio
import os
import random
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from rides.geo.index import GeoIndex
from roadmap_shared.bench import Result, print_section

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/") + "/15"
CITY = "bench"
CENTRE = (48.8566, 2.3522)
SPAN_DEGREES = 0.09  # about 10 km each way from the centre
CALLS = 2000
RADII = [0.5, 1.0, 2.0, 5.0]
# A reproducible city: the same drivers in the same places on every run.
rng = random.Random(4)  # noqa: S311 (positions for a benchmark, not secrets)


def somewhere() -> tuple[float, float]:
    return (
        CENTRE[0] + rng.uniform(-SPAN_DEGREES, SPAN_DEGREES),
        CENTRE[1] + rng.uniform(-SPAN_DEGREES, SPAN_DEGREES),
    )


async def timed(name: str, call: Callable[[], Awaitable[object]]) -> Result:
    latencies = []
    started = time.perf_counter()
    for _ in range(CALLS):
        began = time.perf_counter()
        await call()
        latencies.append((time.perf_counter() - began) * 1000)
    return Result(name, CALLS, time.perf_counter() - started, latencies, 0, None)


async def populate(redis: Redis, drivers: int) -> None:
    """Drivers added in bulk (pipelined), as many pings would have put them."""
    now = time.time()
    for start in range(0, drivers, 5000):
        async with redis.pipeline(transaction=False) as pipe:
            for driver_id in range(start, min(start + 5000, drivers)):
                lat, lng = somewhere()
                pipe.geoadd(f"rides:geo:{CITY}:positions", (lng, lat, str(driver_id)))
                pipe.zadd(f"rides:geo:{CITY}:seen", {str(driver_id): now})
                if driver_id % 2 == 0:
                    pipe.sadd(f"rides:geo:{CITY}:available", str(driver_id))
            await pipe.execute()


async def main() -> None:
    redis = Redis.from_url(REDIS_URL)
    geo = GeoIndex(redis, city=CITY, stale_after_seconds=3600)
    keys = [f"rides:geo:{CITY}:{name}" for name in ("positions", "seen", "available")]
    try:
        await redis.delete(*keys)
        baseline = await timed("Redis PING", redis.ping)
        results = [await timed("ping (record a position)", lambda: geo.record(1, *somewhere()))]
        for drivers in (10_000, 100_000):
            await populate(redis, drivers)

            def search() -> Awaitable[object]:
                return geo.nearest(*somewhere(), radii_km=RADII, count=10)

            results.append(await timed(f"nearest, {drivers:,} drivers", search))
        print_section("Geo index (one connection, sequential)", results, baseline)
    finally:
        await redis.delete(*keys)
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())

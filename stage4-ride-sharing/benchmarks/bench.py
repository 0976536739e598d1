"""Stage 4 ride-sharing benchmark: the two paths every second of the service runs through.

1. Pings. A driver's frames handed to the real `DriverConnection` (the code the socket
   runs: JSON and Pydantic validation, the rate limit, the plausibility check against the
   last position, the GEO write and the driver's trip, one script in Redis) through
   Starlette's `WebSocket` over an in-memory ASGI channel, several drivers at once. The
   figure that matters is pings per CPU second of this process: how many one core
   ingests. The baseline is a heartbeat frame on the same sockets (parsed, one `ZADD XX`).
2. Matching. A trip request taken off the stream by the real `Dispatcher` until its first
   offer is made (the stream read, the lease, the pickup read from PostgreSQL, the widening
   GEO search, the offer written and published), in a city of 10,000 and of 100,000
   drivers loaded straight into Redis (pipelined `GEOADD`), half of them available. Also
   the share of that time spent in the candidate search (`GeoIndex.nearest`: `GEOSEARCH`
   and the availability and freshness of what it found). The baseline is a Redis `PING`.

Each driver declines at once (through `Offers.answer`, as the socket's decline does), and
with one offer per trip the dispatcher then cancels the trip: only the time to the offer
is counted. Needs PostgreSQL and Redis, found like the tests find them (`TEST_POSTGRES_URL`,
`TEST_REDIS_URL`); uses a throw-away database, and the `rides:*` keys of a Redis logical
database no suite uses (`BENCH_REDIS_DB`, 15 by default), deleted before and after. Run
from the stage folder: `uv run --no-sync python benchmarks/bench.py` (`make bench`).
"""

import asyncio
import json
import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import insert
from starlette.types import Message, Scope
from starlette.websockets import WebSocket

from rides.config import Settings
from rides.dispatch.dispatcher import Dispatcher
from rides.dispatch.offers import Offer, Offers
from rides.drivers.connection import DriverConnection
from rides.geo.index import MAX_SEARCH_STEPS, Candidate, GeoIndex
from rides.models import Role, Trip, User
from rides.streams import TripRequests
from roadmap_shared.bench import Result, print_section
from roadmap_shared.database import Database
from roadmap_shared.testing.databases import migrated_database
from roadmap_shared.testing.factories import settings_for_tests

STAGE = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = (
    os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
    + f"/{os.environ.get('BENCH_REDIS_DB', '15')}"
)
CENTRE = (48.8566, 2.3522)
SPAN_DEGREES = 0.09  # about 10 km each way from the centre
REDIS_PINGS = 2000
# Ten drivers at once, as when each ping looked up the driver's trip in PostgreSQL (the
# app's pool keeps ten connections): figures stay comparable with the earlier runs.
DRIVERS_ON_SOCKETS = 10
FRAMES_PER_DRIVER = 300
MATCHES = 1000
CITIES = (10_000, 100_000)
# A reproducible city: the same drivers in the same places on every run.
rng = random.Random(4)  # noqa: S311 (positions for a benchmark, not secrets)


def somewhere() -> tuple[float, float]:
    return (
        CENTRE[0] + rng.uniform(-SPAN_DEGREES, SPAN_DEGREES),
        CENTRE[1] + rng.uniform(-SPAN_DEGREES, SPAN_DEGREES),
    )


def bench_settings(database_url: str) -> Settings:
    return settings_for_tests(
        Settings,
        database_url=database_url,
        redis_url=REDIS_URL,
        city="bench",
        # Frames come as fast as the code takes them: the rate limit is checked on every
        # ping, and passes. A real driver pings every few seconds; many drivers make the load.
        min_ping_interval_seconds=0.0,
        max_offers_per_trip=1,
        heartbeat_timeout_seconds=3600.0,
    )


# --- 1. pings through the driver's socket code ------------------------------------------


@dataclass
class InMemorySocket:
    """The ASGI side of one driver's WebSocket: hands `frames` to the app one by one and
    times each, from handing it over to the app asking for the next."""

    frames: list[str]
    handled_ms: list[float] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    _next: int = -1
    _handed_at: float = 0.0

    async def receive(self) -> Message:
        now = time.perf_counter()
        if self._next >= 1:
            self.handled_ms.append((now - self._handed_at) * 1000)
        self._next += 1
        if self._next == 0:
            return {"type": "websocket.connect"}
        if self._next > len(self.frames):
            return {"type": "websocket.disconnect", "code": 1000}
        self._handed_at = time.perf_counter()
        return {"type": "websocket.receive", "text": self.frames[self._next - 1]}

    async def send(self, message: Message) -> None:
        if message["type"] == "websocket.send" and "text" in message:
            frame = json.loads(message["text"])
            if frame.get("type") == "error":
                self.errors.append(frame)

    def websocket(self) -> WebSocket:
        scope: Scope = {"type": "websocket", "path": "/drivers/socket", "headers": []}
        return WebSocket(scope, self.receive, self.send)


def ping_frames(count: int) -> list[str]:
    """A car crawling north-east: a few metres between pings, always plausible."""
    lat, lng = somewhere()
    return [
        json.dumps({"type": "ping", "lat": lat + step * 1e-5, "lng": lng + step * 1e-5})
        for step in range(count)
    ]


async def frames_through_sockets(
    name: str,
    frames: Callable[[], list[str]],
    *,
    settings: Settings,
    database: Database,
    redis: Redis,
) -> Result:
    geo = GeoIndex(redis, city=settings.city, stale_after_seconds=3600)
    offers = Offers(redis, offer_seconds=settings.offer_seconds)
    sockets = [InMemorySocket(frames()) for _ in range(DRIVERS_ON_SOCKETS)]

    async def drive(driver_id: int, socket: InMemorySocket) -> None:
        websocket = socket.websocket()
        await websocket.accept()
        connection = DriverConnection(
            websocket,
            driver_id=driver_id,
            settings=settings,
            redis=redis,
            geo=geo,
            offers=offers,
            sessions=database.sessionmaker,
        )
        await connection.run()

    print(f"bench: {name}", flush=True)
    cpu_before, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(drive(1_000_000 + i, s) for i, s in enumerate(sockets)))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_before
    handled = [ms for socket in sockets for ms in socket.handled_ms]
    errors = sum(len(socket.errors) for socket in sockets)
    return Result(name, len(handled), seconds, handled, errors, cpu)


# --- 2. matching --------------------------------------------------------------------------


class TimedGeoIndex(GeoIndex):
    """The geo index, keeping how long each candidate search took."""

    searches_ms: list[float]

    async def nearest(
        self,
        lat: float,
        lng: float,
        *,
        radii_km: list[float],
        count: int,
        exclude: frozenset[int] = frozenset(),
        max_steps: int = MAX_SEARCH_STEPS,
    ) -> list[Candidate]:
        began = time.perf_counter()
        found = await super().nearest(
            lat, lng, radii_km=radii_km, count=count, exclude=exclude, max_steps=max_steps
        )
        self.searches_ms.append((time.perf_counter() - began) * 1000)
        return found


class DecliningOffers(Offers):
    """Offers whose driver declines the moment they are made, noting when that was."""

    made_at: float | None = None

    async def make(self, trip_id: int, driver_id: int, pickup: tuple[float, float]) -> Offer | None:
        offer = await super().make(trip_id, driver_id, pickup)
        if offer is not None:
            self.made_at = time.perf_counter()
            await self.answer(offer, "declined")
        return offer


async def populate(redis: Redis, city: str, drivers: int) -> None:
    """Drivers added in bulk (pipelined), as many pings would have put them."""
    now = time.time()
    for start in range(0, drivers, 5000):
        async with redis.pipeline(transaction=False) as pipe:
            for driver_id in range(start, min(start + 5000, drivers)):
                lat, lng = somewhere()
                pipe.geoadd(f"rides:geo:{city}:positions", (lng, lat, str(driver_id)))
                pipe.zadd(f"rides:geo:{city}:seen", {str(driver_id): now})
                if driver_id % 2 == 0:
                    pipe.sadd(f"rides:geo:{city}:available", str(driver_id))
            await pipe.execute()


async def requested_trips(database: Database, count: int) -> list[int]:
    """`count` requested trips, each of its own rider (a rider has one active trip)."""
    riders = [
        {
            "email": f"bench-{time.time_ns()}-{i}@example.com",
            "name": "Bench",
            "password_hash": "unused",
            "role": Role.RIDER,
        }
        for i in range(count)
    ]
    async with database.sessionmaker() as session, session.begin():
        rider_ids = (await session.scalars(insert(User).returning(User.id), riders)).all()
        trips = []
        for rider_id in rider_ids:
            (lat, lng), (to_lat, to_lng) = somewhere(), somewhere()
            trips.append(
                {
                    "rider_id": rider_id,
                    "pickup_lat": lat,
                    "pickup_lng": lng,
                    "dropoff_lat": to_lat,
                    "dropoff_lng": to_lng,
                    "quoted_fare_cents": 1000,
                }
            )
        return list((await session.scalars(insert(Trip).returning(Trip.id), trips)).all())


@dataclass(frozen=True)
class Matches:
    result: Result
    search_share: float  # of the median match
    searches: Result


async def matches(drivers: int, *, settings: Settings, database: Database, redis: Redis) -> Matches:
    geo = TimedGeoIndex(redis, city=settings.city, stale_after_seconds=3600)
    geo.searches_ms = []
    offers = DecliningOffers(redis, offer_seconds=settings.offer_seconds)
    queue = TripRequests(redis)
    dispatcher = Dispatcher(
        settings=settings,
        sessions=database.sessionmaker,
        redis=redis,
        geo=geo,
        offers=offers,
        queue=queue,
        name="bench",
    )
    await queue.ensure_group()
    print(f"bench: {MATCHES} matches among {drivers:,} drivers", flush=True)
    latencies: list[float] = []
    shares: list[float] = []
    started = time.perf_counter()
    for trip_id in await requested_trips(database, MATCHES):
        await queue.publish(trip_id)
        offers.made_at = None
        began = time.perf_counter()
        await dispatcher.step()
        if offers.made_at is None:
            raise RuntimeError(f"no offer was made for trip {trip_id}")
        latency = (offers.made_at - began) * 1000
        latencies.append(latency)
        shares.append(geo.searches_ms[-1] / latency)
    seconds = time.perf_counter() - started
    return Matches(
        Result(f"request to offer, {drivers:,} drivers", MATCHES, seconds, latencies, 0),
        statistics.median(shares),
        Result("candidate search", len(geo.searches_ms), seconds, geo.searches_ms, 0),
    )


async def timed(name: str, call: Callable[[], Awaitable[object]], calls: int) -> Result:
    latencies = []
    started = time.perf_counter()
    for _ in range(calls):
        began = time.perf_counter()
        await call()
        latencies.append((time.perf_counter() - began) * 1000)
    return Result(name, calls, time.perf_counter() - started, latencies, 0, None)


async def clear(redis: Redis) -> None:
    """Deletes this stage's keys (and only them: the database may be shared)."""
    async for key in redis.scan_iter(match="rides:*", count=10_000):
        await redis.unlink(key)


async def run(database_url: str) -> None:
    settings = bench_settings(database_url)
    database = Database.from_settings(settings)
    redis = Redis.from_url(REDIS_URL)
    try:
        await clear(redis)
        heartbeats = await frames_through_sockets(
            "heartbeat frame",
            lambda: [json.dumps({"type": "heartbeat"})] * FRAMES_PER_DRIVER,
            settings=settings,
            database=database,
            redis=redis,
        )
        pings = await frames_through_sockets(
            "ping frame (validated, checked, recorded)",
            lambda: ping_frames(FRAMES_PER_DRIVER),
            settings=settings,
            database=database,
            redis=redis,
        )

        await clear(redis)
        baseline = await timed("Redis PING", redis.ping, REDIS_PINGS)
        found = []
        for drivers in CITIES:
            await populate(redis, settings.city, drivers)
            found.append(await matches(drivers, settings=settings, database=database, redis=redis))
    finally:
        await clear(redis)
        await redis.aclose()
        await database.dispose()

    title = f"Driver socket frames ({DRIVERS_ON_SOCKETS} drivers at once; CPU of this process)"
    print_section(title, [pings], heartbeats)
    if pings.cpu_ms_per_request:
        print(f"pings per second per core: {1000 / pings.cpu_ms_per_request:,.0f}")
    title = "Time to match: a trip request off the stream to its first offer (server time)"
    print_section(title, [match.result for match in found], baseline)
    for drivers, match in zip(CITIES, found, strict=True):
        print(
            f"{drivers:>7,} drivers: candidate search p50 {match.searches.percentile(50):.2f} ms,"
            f" p99 {match.searches.percentile(99):.2f} ms,"
            f" {match.search_share:.0%} of the median match"
        )


def main() -> None:
    with migrated_database(POSTGRES_URL, "bench_rides", STAGE / "alembic.ini") as database_url:
        asyncio.run(run(database_url))


if __name__ == "__main__":
    main()

"""Demo data: `python -m rides.seed` (or `make seed STAGE=stage4-ride-sharing`).

Creates a rider and a driver to sign in as, and a past for a city: riders, drivers and a
few hundred finished trips (most completed, with the pings their fare came from; some
cancelled by their rider, some by dispatch for want of a driver). Deterministic (a fixed
random seed and a fixed "now"), so every machine gets the same history. Safe to run
again: accounts are created only if missing, the trips only if there are none. It
refuses to run in production.

Nobody is on the map afterwards: positions come from open sockets (`make simulate`).
"""

import argparse
import asyncio
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from rides.config import Settings, get_settings
from rides.dispatch.dispatcher import NO_DRIVER
from rides.models import CancelledBy, Role, Trip, TripPing, TripStatus, User
from rides.trips.pricing import fare_cents, travelled_km
from roadmap_shared.database import Database
from roadmap_shared.security.passwords import hash_password
from roadmap_shared.settings import Environment

# Development-only accounts, printed at the end so a learner can sign in straight away.
ACCOUNTS = [
    ("rider@example.com", "Rita Rider", "rider-password-123", Role.RIDER),
    ("driver@example.com", "Dario Driver", "driver-password-123", Role.DRIVER),
]
CENTRE = (48.8566, 2.3522)
SPAN_DEGREES = 0.04  # about 4 km each way
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PINGS_PER_TRIP = 6


@dataclass(frozen=True)
class SeedReport:
    users_created: int
    trips_created: int
    pings_created: int


def _quiet(_: str) -> None:
    pass


async def seed(
    session: AsyncSession,
    settings: Settings,
    *,
    riders: int = 40,
    drivers: int = 15,
    trips: int = 400,
    progress: Callable[[str], None] = _quiet,
) -> SeedReport:
    """Creates what is missing; `progress` hears one line per step as it goes."""
    rng = random.Random(2026)  # noqa: S311  (demo data, not secrets)
    users_created = await _seed_accounts(session)
    progress(f"  accounts: {users_created} created")
    if await session.scalar(select(func.count()).select_from(Trip)):
        return SeedReport(users_created, 0, 0)
    # One hash for the whole crowd: hashing is slow by design, and nobody signs in as them.
    crowd_hash = await hash_password(f"seeded-{rng.random()}")
    rider_ids = await _crowd(session, Role.RIDER, riders, crowd_hash)
    driver_ids = await _crowd(session, Role.DRIVER, drivers, crowd_hash)
    progress(f"  riders: {len(rider_ids)}, drivers: {len(driver_ids)}")
    rows, routes = [], []
    for _ in range(trips):
        row, route = _trip(rng, settings, rng.choice(rider_ids), rng.choice(driver_ids))
        rows.append(row)
        routes.append(route)
    trip_ids = (await session.scalars(insert(Trip).returning(Trip.id), rows)).all()
    progress(f"  trips: {len(trip_ids):,}")
    pings = [
        {"trip_id": trip_id, "lat": lat, "lng": lng, "recorded_at": when}
        for trip_id, route in zip(trip_ids, routes, strict=True)
        for lat, lng, when in route
    ]
    if pings:
        await session.execute(insert(TripPing), pings)
    progress(f"  pings: {len(pings):,}")
    return SeedReport(users_created, len(trip_ids), len(pings))


async def _seed_accounts(session: AsyncSession) -> int:
    created = 0
    for email, name, password, role in ACCOUNTS:
        statement = (
            pg_insert(User)
            .values(email=email, name=name, password_hash=await hash_password(password), role=role)
            .on_conflict_do_nothing(index_elements=[User.email])
            .returning(User.id)
        )
        created += await session.scalar(statement) is not None
    return created


async def _crowd(session: AsyncSession, role: Role, count: int, password_hash: str) -> list[int]:
    rows = [
        {
            "email": f"{role.value}-{number}@seed.example.com",
            "name": f"Seeded {role.value} {number}",
            "password_hash": password_hash,
            "role": role,
        }
        for number in range(1, count + 1)
    ]
    return list((await session.scalars(insert(User).returning(User.id), rows)).all())


def _somewhere(rng: random.Random) -> tuple[float, float]:
    return (
        CENTRE[0] + rng.uniform(-SPAN_DEGREES, SPAN_DEGREES),
        CENTRE[1] + rng.uniform(-SPAN_DEGREES, SPAN_DEGREES),
    )


def _trip(
    rng: random.Random, settings: Settings, rider_id: int, driver_id: int
) -> tuple[dict[str, Any], list[tuple[float, float, datetime]]]:
    """A finished trip's row, and the pings of its ride (none if it never started)."""
    pickup, dropoff = _somewhere(rng), _somewhere(rng)
    requested = NOW - timedelta(minutes=rng.randint(30, 60 * 24 * 30))
    row: dict[str, Any] = {
        "rider_id": rider_id,
        "pickup_lat": pickup[0],
        "pickup_lng": pickup[1],
        "dropoff_lat": dropoff[0],
        "dropoff_lng": dropoff[1],
        "quoted_fare_cents": 0,
        "surge": rng.choice([1.0, 1.0, 1.0, 1.2, 1.5]),
        "created_at": requested,
        "updated_at": requested,
    }
    fate = rng.random()
    if fate < 0.1:  # nobody accepted
        row |= {"status": TripStatus.CANCELLED, "version": 2, "ended_at": requested}
        row |= {"cancelled_by": CancelledBy.DISPATCH, "cancel_reason": NO_DRIVER}
        return row, []
    if fate < 0.2:  # the rider changed their mind before pickup
        row |= {"status": TripStatus.CANCELLED, "version": 3, "driver_id": driver_id}
        row |= {"cancelled_by": CancelledBy.RIDER, "cancel_reason": "Plans changed"}
        row["ended_at"] = requested + timedelta(minutes=3)
        return row, []
    started = requested + timedelta(minutes=rng.randint(3, 10))
    minutes = rng.randint(8, 35)
    route = [
        (
            pickup[0] + (dropoff[0] - pickup[0]) * step / (PINGS_PER_TRIP - 1),
            pickup[1] + (dropoff[1] - pickup[1]) * step / (PINGS_PER_TRIP - 1),
            started + timedelta(minutes=minutes * step / (PINGS_PER_TRIP - 1)),
        )
        for step in range(PINGS_PER_TRIP)
    ]
    distance = travelled_km([(lat, lng) for lat, lng, _ in route])
    fare = fare_cents(settings, distance, minutes, row["surge"])
    row |= {
        "status": TripStatus.COMPLETED,
        "version": 5,
        "driver_id": driver_id,
        "quoted_fare_cents": fare,
        "fare_cents": fare,
        "distance_km": round(distance, 3),
        "started_at": started,
        "ended_at": started + timedelta(minutes=minutes),
        "updated_at": started + timedelta(minutes=minutes),
    }
    return row, route


def _print_now(line: str) -> None:
    print(line, flush=True)


async def run(settings: Settings) -> SeedReport:
    database = Database(settings.database_url)
    try:
        async with database.sessionmaker() as session, session.begin():
            return await seed(session, settings, progress=_print_now)
    finally:
        await database.dispose()


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    settings = get_settings()
    if settings.environment is Environment.PRODUCTION:
        sys.exit("Refusing to seed demo accounts into a production database.")
    report = asyncio.run(run(settings))
    if report.trips_created == 0:
        print("There are trips already; they were left as they are.")
    else:
        print(f"Created {report.trips_created} trips and {report.pings_created} pings.")
    print(f"Created {report.users_created} account(s). Sign in with:")
    for email, _, password, role in ACCOUNTS:
        print(f"  {role.value:<7} {email} / {password}")


if __name__ == "__main__":
    main()

"""`make seed`: accounts to sign in as and a month of finished trips, once."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rides.config import Settings
from rides.models import Trip, TripPing, TripStatus, User
from rides.seed import seed


async def test_the_seed_fills_an_empty_city_and_is_safe_to_run_again(
    db_session: AsyncSession, settings: Settings
) -> None:
    heard: list[str] = []
    first = await seed(db_session, settings, riders=5, drivers=3, trips=50, progress=heard.append)
    second = await seed(db_session, settings, riders=5, drivers=3, trips=50)

    assert (first.users_created, first.trips_created) == (2, 50)
    assert heard == [
        "  accounts: 2 created",
        "  riders: 5, drivers: 3",
        "  trips: 50",
        f"  pings: {first.pings_created:,}",
    ]
    assert (second.users_created, second.trips_created, second.pings_created) == (0, 0, 0)
    assert await db_session.scalar(select(func.count()).select_from(User)) == 2 + 5 + 3
    assert await db_session.scalar(select(func.count()).select_from(Trip)) == 50
    pings = await db_session.scalar(select(func.count()).select_from(TripPing))
    assert pings == first.pings_created > 0


async def test_every_seeded_trip_is_over_and_a_completed_one_has_its_fare(
    db_session: AsyncSession, settings: Settings
) -> None:
    await seed(db_session, settings, riders=5, drivers=3, trips=50)
    trips = (await db_session.scalars(select(Trip))).all()
    assert {trip.status for trip in trips} <= {TripStatus.COMPLETED, TripStatus.CANCELLED}
    completed = [trip for trip in trips if trip.status is TripStatus.COMPLETED]
    assert completed
    assert all(trip.fare_cents and trip.distance_km and trip.driver_id for trip in completed)

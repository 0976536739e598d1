"""Exercise 2 (medium): driver ratings, and dispatch preferring the better rated.
`make exercise STAGE=stage4-ride-sharing N=2`"""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rides.config import Settings
from rides.dispatch.dispatcher import Dispatcher
from rides.dispatch.offers import Offers
from rides.geo.index import GeoIndex
from rides.streams import TripRequests
from rides.trips import repository
from tests.factories import PICKUP, north_of, requested_trip, signed_in, user_id

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 2: POST /trips/{id}/rating lets the rider rate the driver of a completed trip "
    "once (1 to 5), and dispatch prefers the better rated of drivers within 200 m (see the "
    "README)"
)
OFFER_DEADLINE_SECONDS = 10


async def completed_trip(
    client: AsyncClient, session: AsyncSession, driver: dict[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """A trip driven to its end; (trip, rider, driver)."""
    rider = await signed_in(client, "rider")
    driver = driver or await signed_in(client, "driver")
    trip = await requested_trip(client, rider)
    assert await repository.assign(session, trip["id"], await user_id(client, driver))
    await session.commit()
    version = 2
    for step in ("arriving", "in_progress", "completed"):
        moved = await client.post(
            f"/trips/{trip['id']}/transitions",
            json={"to": step, "version": version},
            headers=driver,
        )
        assert moved.status_code == 200, moved.text
        version = moved.json()["version"]
    return moved.json(), rider, driver


async def rate(client: AsyncClient, trip_id: int, who: dict[str, str], stars: object) -> int:
    response = await client.post(f"/trips/{trip_id}/rating", json={"stars": stars}, headers=who)
    return response.status_code


async def test_the_rider_rates_a_completed_trip_once(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    trip, rider, _ = await completed_trip(client, db_session)
    assert await rate(client, trip["id"], rider, 5) == 201, TODO
    assert await rate(client, trip["id"], rider, 4) == 409, f"{TODO}: once per trip"


async def test_only_the_rider_of_a_completed_trip_rates_it(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    trip, _, driver = await completed_trip(client, db_session)
    assert await rate(client, trip["id"], driver, 5) == 403, f"{TODO}: drivers do not rate"
    stranger = await signed_in(client, "rider")
    assert await rate(client, trip["id"], stranger, 5) == 404, f"{TODO}: not their trip"
    rider = await signed_in(client, "rider")
    requested = await requested_trip(client, rider)
    assert await rate(client, requested["id"], rider, 5) == 409, f"{TODO}: not over yet"


@pytest.mark.parametrize("stars", [0, 6, 4.5, "5", True, None])
async def test_stars_are_a_whole_number_from_1_to_5(
    client: AsyncClient, db_session: AsyncSession, stars: object
) -> None:
    trip, rider, _ = await completed_trip(client, db_session)
    assert await rate(client, trip["id"], rider, stars) == 422, TODO


# --- dispatch ------------------------------------------------------------------------------


async def rated_driver(client: AsyncClient, session: AsyncSession, stars: int) -> int:
    """A driver whose one trip its rider rated `stars`."""
    trip, rider, driver = await completed_trip(client, session)
    assert await rate(client, trip["id"], rider, stars) == 201, TODO
    return await user_id(client, driver)


@pytest.fixture
def first_offered(
    *,
    committing_client: AsyncClient,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    redis_client: Redis,
    geo: GeoIndex,
    offers: Offers,
    trip_requests: TripRequests,
) -> Callable[[dict[int, dict[str, float]]], Awaitable[int]]:
    """Puts drivers online where given, has a trip requested and a dispatcher step; the
    driver offered the trip first."""

    async def first(places: dict[int, dict[str, float]]) -> int:
        for driver_id, place in places.items():
            await geo.record(driver_id, place["lat"], place["lng"])
            await geo.set_available(driver_id, True)
        await requested_trip(committing_client, await signed_in(committing_client, "rider"))
        dispatcher = Dispatcher(
            settings=settings,
            sessions=sessions,
            redis=redis_client,
            geo=geo,
            offers=offers,
            queue=trip_requests,
            name="exercise",
        )
        stepping = asyncio.create_task(dispatcher.step(block_ms=100))
        try:
            deadline = time.monotonic() + OFFER_DEADLINE_SECONDS
            while time.monotonic() < deadline:
                for driver_id in places:
                    if await offers.pending_for(driver_id) is not None:
                        return driver_id
                await asyncio.sleep(0.02)
            raise AssertionError("no driver was offered the trip")
        finally:
            stepping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stepping

    return first


async def test_dispatch_prefers_the_better_rated_of_two_drivers_close_together(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    first_offered: Callable[[dict[int, dict[str, float]]], Awaitable[int]],
) -> None:
    poor = await rated_driver(committing_client, committed_session, 1)
    good = await rated_driver(committing_client, committed_session, 5)
    places = {poor: north_of(PICKUP, 0.05), good: north_of(PICKUP, 0.15)}
    assert await first_offered(places) == good, f"{TODO}: 100 m farther, but rated 5 against 1"


async def test_a_better_rating_does_not_outweigh_a_long_way(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    first_offered: Callable[[dict[int, dict[str, float]]], Awaitable[int]],
) -> None:
    poor = await rated_driver(committing_client, committed_session, 1)
    good = await rated_driver(committing_client, committed_session, 5)
    places = {poor: north_of(PICKUP, 0.05), good: north_of(PICKUP, 0.45)}
    assert await first_offered(places) == poor, f"{TODO}: 400 m apart is not close together"

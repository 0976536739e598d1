"""Exercise 3 (hard): a driver who declines is rested, whichever dispatcher comes next.
`make exercise STAGE=stage4-ride-sharing N=3`"""

import asyncio
import contextlib
import time

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rides.config import Settings
from rides.dispatch import answers
from rides.dispatch.dispatcher import Dispatcher
from rides.dispatch.offers import Offers
from rides.geo.index import GeoIndex
from rides.models import Role
from rides.streams import TripRequests
from tests.conftest import make_settings
from tests.factories import PICKUP, committed_trip, committed_users, north_of

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 3: a driver who declines an offer, or lets it expire, is offered no trip for "
    "RIDES_DECLINE_COOLDOWN_SECONDS, by any dispatcher (see the README)"
)
DEADLINE_SECONDS = 10
# Long enough for the tests that rely on a driver resting; the last waits it out.
COOLDOWN_SECONDS = 3.0
PICKUP_POINT = (PICKUP["lat"], PICKUP["lng"])


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(
        database_url,
        redis_url,
        offer_seconds=0.5,
        max_offers_per_trip=1,
        decline_cooldown_seconds=COOLDOWN_SECONDS,
    )


@pytest.fixture
def dispatcher(
    *,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    redis_client: Redis,
    geo: GeoIndex,
    offers: Offers,
    trip_requests: TripRequests,
) -> Dispatcher:
    return Dispatcher(
        settings=settings,
        sessions=sessions,
        redis=redis_client,
        geo=geo,
        offers=offers,
        queue=trip_requests,
        name="another dispatcher",
    )


async def drivers_online(session: AsyncSession, geo: GeoIndex) -> tuple[int, int]:
    """Two drivers: one 50 m from the pickup, one 400 m."""
    near, far = await committed_users(session, Role.DRIVER, 2)
    for driver_id, km in ((near, 0.05), (far, 0.4)):
        place = north_of(PICKUP, km)
        await geo.record(driver_id, place["lat"], place["lng"])
        await geo.set_available(driver_id, True)
    return near, far


async def new_trip(session: AsyncSession) -> int:
    [rider] = await committed_users(session, Role.RIDER, 1)
    return await committed_trip(session, rider)


async def first_offered(
    dispatcher: Dispatcher, queue: TripRequests, offers: Offers, trip_id: int, drivers: list[int]
) -> int | None:
    """The driver the dispatcher offers `trip_id` to first; None if nobody, in time."""
    await queue.publish(trip_id)
    stepping = asyncio.create_task(dispatcher.step(block_ms=100))
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline and not stepping.done():
            for driver_id in drivers:
                offer = await offers.pending_for(driver_id)
                if offer is not None and offer.trip_id == trip_id:
                    return driver_id
            await asyncio.sleep(0.02)
        return None
    finally:
        stepping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stepping


async def test_a_driver_who_declined_is_not_offered_the_next_trip(
    committed_session: AsyncSession,
    geo: GeoIndex,
    offers: Offers,
    trip_requests: TripRequests,
    dispatcher: Dispatcher,
) -> None:
    near, far = await drivers_online(committed_session, geo)
    offer = await offers.make(await new_trip(committed_session), near, PICKUP_POINT)
    assert offer is not None
    await answers.decline(offers, offer_id=offer.id, driver_id=near)

    trip = await new_trip(committed_session)
    offered = await first_offered(dispatcher, trip_requests, offers, trip, [near, far])
    assert offered == far, f"{TODO}: the nearer driver declined a moment ago"


async def test_a_driver_who_let_an_offer_expire_is_rested_too(
    committed_session: AsyncSession,
    geo: GeoIndex,
    offers: Offers,
    trip_requests: TripRequests,
    dispatcher: Dispatcher,
) -> None:
    near, far = await drivers_online(committed_session, geo)
    first = await new_trip(committed_session)
    assert await first_offered(dispatcher, trip_requests, offers, first, [near, far]) == near
    await asyncio.sleep(0.8)  # past the offer's deadline (0.5 s): nobody answered

    second = await new_trip(committed_session)
    offered = await first_offered(dispatcher, trip_requests, offers, second, [near, far])
    assert offered == far, f"{TODO}: an offer left to expire counts as a decline"


async def test_no_offer_is_made_to_a_resting_driver_even_from_an_earlier_search(
    committed_session: AsyncSession, geo: GeoIndex, offers: Offers
) -> None:
    near, _ = await drivers_online(committed_session, geo)
    # A dispatcher found `near` in its search; before it makes its offer, the driver
    # declines another one. The offer it then makes must be refused all the same.
    offer = await offers.make(await new_trip(committed_session), near, PICKUP_POINT)
    assert offer is not None
    await answers.decline(offers, offer_id=offer.id, driver_id=near)
    late = await offers.make(await new_trip(committed_session), near, PICKUP_POINT)
    assert late is None, f"{TODO}: check the rest where the offer is taken, not in the search"


async def test_the_rest_ends(committed_session: AsyncSession, offers: Offers) -> None:
    driver = (await committed_users(committed_session, Role.DRIVER, 1))[0]
    offer = await offers.make(await new_trip(committed_session), driver, PICKUP_POINT)
    assert offer is not None
    await answers.decline(offers, offer_id=offer.id, driver_id=driver)
    await asyncio.sleep(COOLDOWN_SECONDS + 0.5)
    again = await offers.make(await new_trip(committed_session), driver, PICKUP_POINT)
    assert again is not None, f"{TODO}: the rest lasts the cooldown, no longer"

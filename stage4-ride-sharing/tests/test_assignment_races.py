"""PostgreSQL has the last word on assignment, whatever Redis and the dispatchers did:
concurrent accepts of one offer, one driver given two trips at once (a lost lease), one
rider requesting twice at once. Real concurrent transactions, each on its own connection."""

import asyncio

from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rides.dispatch import answers
from rides.dispatch.offers import Offers
from rides.geo.index import GeoIndex
from rides.models import Role
from rides.trips import repository
from tests.factories import DROPOFF, PICKUP, committed_trip, committed_users, signed_in

ACCEPTS = 1000


async def test_of_a_thousand_concurrent_accepts_of_one_offer_exactly_one_wins(
    committed_session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    offers: Offers,
    geo: GeoIndex,
    redis_client: Redis,
) -> None:
    """The driver's app retries, the network duplicates, other drivers forge the offer's id."""
    [rider] = await committed_users(committed_session, Role.RIDER, 1)
    driver, *others = await committed_users(committed_session, Role.DRIVER, 5)
    trip_id = await committed_trip(committed_session, rider)
    offer = await offers.make(trip_id, driver, (PICKUP["lat"], PICKUP["lng"]))
    assert offer is not None
    # Accepts wait for the pool's connections, as they would for a busy server's.
    gate = asyncio.Semaphore(50)

    async def accept(driver_id: int) -> str:
        async with gate:
            try:
                await answers.accept(
                    sessions, offers, geo, redis_client, offer_id=offer.id, driver_id=driver_id
                )
            except answers.OfferRefused as refused:
                return refused.code
            return "won"

    claimants = [driver if n % 2 else others[n % len(others)] for n in range(ACCEPTS)]
    outcomes = await asyncio.gather(*(accept(driver_id) for driver_id in claimants))
    assert outcomes.count("won") == 1
    assert set(outcomes) <= {"won", "unknown_offer", "trip_unavailable"}
    committed_session.expire_all()
    trip = await repository.get(committed_session, trip_id)
    assert trip is not None
    assert (trip.driver_id, trip.version) == (driver, 2)


async def test_a_driver_given_two_trips_at_once_gets_one(
    committed_session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Two dispatchers each believed they held the driver: the partial unique index on
    the driver's active trip refuses the second assignment."""
    riders = await committed_users(committed_session, Role.RIDER, 2)
    [driver] = await committed_users(committed_session, Role.DRIVER, 1)
    trip_ids = [await committed_trip(committed_session, rider) for rider in riders]

    async def assign(trip_id: int) -> bool:
        async with sessions() as session, session.begin():
            return await repository.assign(session, trip_id, driver) is not None

    results = await asyncio.gather(*(assign(trip_id) for trip_id in trip_ids))
    assert sorted(results) == [False, True]


async def test_a_rider_requesting_twice_at_once_gets_one_trip(
    committing_client: AsyncClient,
) -> None:
    rider = await signed_in(committing_client)
    body = {"pickup": PICKUP, "dropoff": DROPOFF}
    responses = await asyncio.gather(
        *(committing_client.post("/trips", json=body, headers=rider) for _ in range(10))
    )
    assert sorted(response.status_code for response in responses) == [201] + [409] * 9

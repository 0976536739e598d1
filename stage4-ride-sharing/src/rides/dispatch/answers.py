"""A driver's answer to an offer. Accepting is decided by PostgreSQL: the trip is assigned
only if it is still requested and the driver has no other active trip, whatever Redis says
(an offer accepted a thousand times at once assigns the trip once)."""

import time
from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rides.dispatch.offers import Offer, Offers
from rides.geo.index import GeoIndex
from rides.models import Trip
from rides.trips import history, updates
from rides.trips import repository as trips


class OfferRefused(Exception):
    """An answer that cannot be taken; `code` goes into the socket's error frame."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Accepted:
    trip: Trip


async def _own_live_offer(offers: Offers, offer_id: str, driver_id: int) -> Offer:
    offer = await offers.get(offer_id)
    # Another driver's offer looks exactly like one that does not exist: offer ids are
    # not something a driver may probe.
    if offer is None or offer.driver_id != driver_id:
        raise OfferRefused("unknown_offer", "No such offer, or it has expired")
    if offer.expires_at <= time.time():
        raise OfferRefused("unknown_offer", "No such offer, or it has expired")
    return offer


async def accept(
    sessions: async_sessionmaker[AsyncSession],
    offers: Offers,
    geo: GeoIndex,
    redis: Redis,
    *,
    offer_id: str,
    driver_id: int,
) -> Accepted:
    offer = await _own_live_offer(offers, offer_id, driver_id)
    async with sessions() as session, session.begin():
        trip = await trips.assign(session, offer.trip_id, driver_id)
    if trip is None:
        raise OfferRefused("trip_unavailable", "This trip was cancelled or taken")
    # Committed: the block above has ended. The driver's pings now go to this trip.
    await history.assigned(redis, driver_id, trip.id)
    await updates.publish_state(redis, trip)
    await offers.answer(offer, "accepted")
    await geo.set_available(driver_id, False)  # busy until the trip ends
    return Accepted(trip)


async def decline(offers: Offers, *, offer_id: str, driver_id: int) -> None:
    offer = await _own_live_offer(offers, offer_id, driver_id)
    await offers.answer(offer, "declined")

"""Offers: one per driver at a time, gone at their deadline."""

import asyncio

from redis.asyncio import Redis

from rides.dispatch.offers import Offers

PICKUP = (48.8566, 2.3522)


async def test_a_driver_holds_one_offer_at_a_time(offers: Offers) -> None:
    """Two dispatchers reaching for the same driver: the second finds the driver busy."""
    first = await offers.make(1, 7, PICKUP)
    assert first is not None
    assert await offers.make(2, 7, PICKUP) is None
    assert await offers.pending_for(7) == first
    await offers.withdraw(first)
    assert await offers.make(2, 7, PICKUP) is not None


async def test_an_offer_is_gone_at_its_deadline(redis_client: Redis) -> None:
    brief = Offers(redis_client, offer_seconds=0.1)
    offer = await brief.make(1, 7, PICKUP)
    assert offer is not None
    assert await brief.wait_for_answer(offer) is None
    await asyncio.sleep(0.05)
    assert await brief.get(offer.id) is None
    assert await brief.pending_for(7) is None

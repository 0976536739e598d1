"""Offers: one per driver at a time, gone at their deadline."""

import asyncio

import pytest
from redis.asyncio import Redis

from rides.dispatch.offers import Offer, Offers

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


async def test_an_answered_offer_is_gone_before_its_answer_wakes_the_dispatcher(
    offers: Offers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Woken by an accept, the dispatcher withdraws what of the trip is still out: the
    accepted offer must be gone by then, or its driver hears `offer_withdrawn` after
    accepting. A slow withdrawal (a busy network) must not open that window."""
    offer = await offers.make(1, 7, PICKUP)
    assert offer is not None
    withdraw = offers.withdraw

    async def slow_withdraw(withdrawn: Offer) -> None:
        await asyncio.sleep(0.2)
        await withdraw(withdrawn)

    monkeypatch.setattr(offers, "withdraw", slow_withdraw)

    async def dispatcher() -> Offer | None:
        assert await offers.wait_for_answer(offer) == "accepted"
        return await offers.pending_for(7)

    woken = asyncio.create_task(dispatcher())
    await offers.answer(offer, "accepted")

    assert await woken is None

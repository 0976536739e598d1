"""Offers: a trip proposed to one driver, with a deadline.

An offer lives in Redis for exactly its deadline (`PX`), so an expired offer cannot be
accepted, on any instance. The driver's pointer to it (`…:driver:<id>:offer`) is taken with
`NX`: a driver has at most one offer at a time, whichever dispatcher makes it, and a
driver who reconnects finds the offer still waiting. The offer reaches the driver through
Redis pub/sub on the driver's channel, which the instance holding the driver's socket
listens to. The answer comes back on a list the dispatcher waits on.
"""

import json
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Literal

from redis.asyncio import Redis

from rides.awaited import awaited
from rides.dispatch.lease import RELEASE

Answer = Literal["accepted", "declined"]
# Redis calls here are bounded by the client's socket timeout (half a second), so a long
# wait is many short blocking pops.
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Offer:
    id: str
    trip_id: int
    driver_id: int
    pickup_lat: float
    pickup_lng: float
    expires_at: float

    def frame(self) -> dict[str, object]:
        return {
            "type": "offer",
            "offer_id": self.id,
            "trip_id": self.trip_id,
            "pickup": {"lat": self.pickup_lat, "lng": self.pickup_lng},
            "expires_in": round(max(0.0, self.expires_at - time.time()), 1),
        }


def driver_channel(driver_id: int | str) -> str:
    return f"rides:driver:{driver_id}"


def _offer_key(offer_id: str) -> str:
    return f"rides:offer:{offer_id}"


def _pointer_key(driver_id: int | str) -> str:
    return f"rides:driver:{driver_id}:offer"


def _answer_key(offer_id: str) -> str:
    return f"rides:offer:{offer_id}:answer"


def offered_key(trip_id: int) -> str:
    """The drivers a trip was offered to: none is offered it twice."""
    return f"rides:trip:{trip_id}:offered"


# Making an offer is one script, one round trip instead of four: the driver is marked as
# asked for this trip, takes the offer pointer (`NX`: one offer per driver at a time), the
# offer is stored, then published. In one step, a driver busy with another offer is
# unmarked before anyone can read the mark, and the offer is stored before the driver
# hears of it and answers.
MAKE = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then
    return 0
end
redis.call('EXPIRE', KEYS[1], 3600)
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
    redis.call('SREM', KEYS[1], ARGV[1])
    return 0
end
redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[3])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
"""


class Offers:
    def __init__(self, redis: Redis, *, offer_seconds: float) -> None:
        self._redis = redis
        self._release_pointer = redis.register_script(RELEASE)
        self._make = redis.register_script(MAKE)
        self._withdraw_trip = redis.register_script(WITHDRAW_TRIP)
        self._ttl_ms = int(offer_seconds * 1000)

    async def make(self, trip_id: int, driver_id: int, pickup: tuple[float, float]) -> Offer | None:
        """The offer, pushed to the driver; None if the driver already has one, or had
        this trip already."""
        offer = Offer(
            id=secrets.token_urlsafe(16),
            trip_id=trip_id,
            driver_id=driver_id,
            pickup_lat=pickup[0],
            pickup_lng=pickup[1],
            expires_at=time.time() + self._ttl_ms / 1000,
        )
        made = await self._make(
            keys=[offered_key(trip_id), _pointer_key(driver_id), _offer_key(offer.id)],
            args=[
                driver_id,
                offer.id,
                self._ttl_ms,
                json.dumps(asdict(offer)),
                driver_channel(driver_id),
                json.dumps(offer.frame()),
            ],
        )
        return offer if made else None

    async def get(self, offer_id: str) -> Offer | None:
        stored = await self._redis.get(_offer_key(offer_id))
        return Offer(**json.loads(stored)) if stored else None

    async def pending_for(self, driver_id: int) -> Offer | None:
        """The offer waiting for a driver who was away when it was made."""
        offer_id = await self._redis.get(_pointer_key(driver_id))
        if offer_id is None:
            return None
        return await self.get(offer_id.decode() if isinstance(offer_id, bytes) else offer_id)

    async def answer(self, offer: Offer, answer: Answer) -> None:
        """The offer is withdrawn first, then answered: the dispatcher wakes on the answer
        and withdraws whatever of the trip is still out, which must not include this
        offer (its driver would be told `offer_withdrawn` after accepting it)."""
        await self.withdraw(offer)
        key = _answer_key(offer.id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, answer)
            pipe.pexpire(key, self._ttl_ms)
            await pipe.execute()

    async def wait_for_answer(self, offer: Offer) -> Answer | None:
        """The driver's answer, or None once the offer has expired."""
        while (left := offer.expires_at - time.time()) > 0:
            popped = await awaited(
                # Redis takes a decimal timeout (6.0+); redis-py's annotation says int.
                self._redis.blpop([_answer_key(offer.id)], timeout=min(POLL_SECONDS, left))  # type: ignore[arg-type]
            )
            if popped is not None:
                value = popped[1]
                text = value.decode() if isinstance(value, bytes) else value
                return "accepted" if text == "accepted" else "declined"
        return None

    async def withdraw(self, offer: Offer) -> None:
        """The offer is gone; the driver's pointer too, if it still names this offer."""
        await self._redis.delete(_offer_key(offer.id))
        await self._release_pointer(keys=[_pointer_key(offer.driver_id)], args=[offer.id])

    async def withdraw_trip(self, trip_id: int) -> None:
        """Call once the trip is decided (assigned, cancelled, given up on): its offer still
        out, if any, is withdrawn (the driver is told, and free for another at once; the
        dispatcher waiting on it wakes), and the record of the drivers asked goes."""
        await self._withdraw_trip(
            keys=[offered_key(trip_id)],
            # The keys' formats, a `%s` where the script puts a driver's or an offer's id.
            args=[
                trip_id,
                _pointer_key("%s"),
                _offer_key("%s"),
                _answer_key("%s"),
                driver_channel("%s"),
                self._ttl_ms,
            ],
        )


# For each driver the trip was offered to: the offer the driver's pointer names, if it is
# of this trip, is deleted with the pointer, answered `withdrawn` and announced to the
# driver; then the set of drivers asked goes. One script: an accept in between would find
# the offer gone, not half of it. ARGV: the trip id, the key formats (a `%s` for the
# driver or offer id) of the pointer, the offer, the answer, the driver's channel; the
# answer's lifetime in ms.
WITHDRAW_TRIP = """
for _, driver in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    local pointer = string.format(ARGV[2], driver)
    local offer_id = redis.call('GET', pointer)
    if offer_id then
        local offer = string.format(ARGV[3], offer_id)
        local stored = redis.call('GET', offer)
        if stored and cjson.decode(stored)['trip_id'] == tonumber(ARGV[1]) then
            redis.call('DEL', offer, pointer)
            local answer = string.format(ARGV[4], offer_id)
            redis.call('RPUSH', answer, 'withdrawn')
            redis.call('PEXPIRE', answer, ARGV[6])
            redis.call('PUBLISH', string.format(ARGV[5], driver), cjson.encode(
                {type = 'offer_withdrawn', offer_id = offer_id, trip_id = tonumber(ARGV[1])}))
        end
    end
end
return redis.call('DEL', KEYS[1])
"""

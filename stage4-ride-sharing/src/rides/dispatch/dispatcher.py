"""The dispatcher: takes trip requests off the stream and finds each a driver.

For each trip, under the trip's lease: the nearest available, fresh drivers who have not
had this trip yet are offered it one at a time; each has `offer_seconds` to accept. After
`max_offers_per_trip` offers, or when nobody is near, the trip is cancelled by dispatch
with a reason the rider reads. The entry is acknowledged only once the trip is decided, so
a dispatcher that dies mid-trip leaves it pending; another takes it over with `XAUTOCLAIM`
when the lease has lapsed, and carries on from the drivers already asked.
"""

import asyncio
import contextlib
import logging
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rides.config import Settings
from rides.dispatch.lease import Lease, trip_lease
from rides.dispatch.offers import Offers, offered_key
from rides.geo.index import GeoIndex
from rides.models import CancelledBy, TripStatus
from rides.streams import Entry, TripRequests
from rides.trips import repository as trips
from rides.trips import updates
from roadmap_shared.database import utcnow

logger = logging.getLogger(__name__)

NO_DRIVER = "No driver accepted this trip. Please try again in a few minutes."
BATCH = 10
READ_BLOCK_MS = 250  # below the Redis client's socket timeout
# Each dispatcher writes its name and the time here at every step: the container's health
# check (`python -m rides.worker --check`) reads it.
ALIVE_KEY = "rides:dispatchers:alive"
# After Redis or PostgreSQL failed a step: wait this long, then try again.
RETRY_AFTER_FAILURE_SECONDS = 1.0


class Dispatcher:
    def __init__(
        self,
        *,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        redis: Redis,
        geo: GeoIndex,
        offers: Offers,
        queue: TripRequests,
        name: str,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._redis = redis
        self._geo = geo
        self._offers = offers
        self._queue = queue
        self.name = name

    async def run(self, stop: asyncio.Event) -> None:
        """Steps until `stop` is set. A step that Redis or PostgreSQL fails (a timeout, a
        restart) is logged and tried again a moment later: the process outlives an outage
        instead of ending with it. Nothing is lost meanwhile: an entry is acknowledged
        only once its trip is decided, so the next step, here or in another dispatcher,
        takes it up again once its lease has lapsed."""
        group_ready = False
        while not stop.is_set():
            try:
                if not group_ready:
                    await self._queue.ensure_group()
                    group_ready = True
                await self._redis.zadd(ALIVE_KEY, {self.name: time.time()})
                await self.step(block_ms=READ_BLOCK_MS)
            except (RedisError, SQLAlchemyError, OSError) as failure:
                logger.warning("dispatch step failed, retrying: %r", failure)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RETRY_AFTER_FAILURE_SECONDS)

    async def step(self, *, block_ms: int | None = None) -> int:
        """Takes over abandoned entries, reads new ones and handles them all, side by side;
        returns how many it handled."""
        idle_ms = int(self._settings.lease_seconds * 1000)
        entries = await self._queue.claim_and_read(
            self.name, idle_ms=idle_ms, count=BATCH, block_ms=block_ms
        )
        await asyncio.gather(*(self.handle(entry) for entry in entries))
        return len(entries)

    async def handle(self, entry: Entry) -> None:
        lease = trip_lease(self._redis, entry.trip_id, self._settings.lease_seconds)
        # The lease (with the drivers already asked) and the trip's pickup, side by side:
        # one wait instead of two before the first offer. The pickup is read for nothing
        # when another dispatcher holds the lease, which is rare; both are awaited to the
        # end either way, so neither is left running when the other fails.
        leased, pickup = await asyncio.gather(
            self._lease_and_asked(lease, entry.trip_id),
            self._requested_pickup(entry.trip_id),
            return_exceptions=True,
        )
        if isinstance(leased, BaseException):
            raise leased
        taken, already = leased
        if not taken:
            # Another dispatcher is on it. The entry stays pending here and is claimed
            # again later; by then the trip is decided, or that dispatcher is dead.
            return
        try:
            if isinstance(pickup, BaseException):
                raise pickup
            if await self._match(entry.trip_id, lease, already, pickup):
                # Decided: nothing of its offers is needed any more.
                await self._offers.withdraw_trip(entry.trip_id)
                await self._queue.ack(entry)
        finally:
            await lease.release()

    async def _lease_and_asked(self, lease: Lease, trip_id: int) -> tuple[bool, set[int]]:
        """Whether the lease was taken, and the drivers already asked (by a dispatcher that
        died on this trip), in one round trip: the second is read for nothing when the
        first fails."""
        async with self._redis.pipeline(transaction=False) as pipe:
            lease.add_acquire(pipe)
            pipe.smembers(offered_key(trip_id))
            taken, members = await pipe.execute()
        return bool(taken), {int(member) for member in members}

    async def _match(
        self,
        trip_id: int,
        lease: Lease,
        already: set[int],
        pickup: tuple[float, float] | None,
    ) -> bool:
        """True once the trip is decided (matched, cancelled, or given up on). `already`
        holds the drivers asked, and grows with each offer: under the lease, nobody else
        offers this trip. `pickup` was read as the lease was taken; it is read again after
        each answer, and is None once the trip is no longer requested."""
        just_taken = True
        while True:
            if pickup is None:
                return True  # no longer requested: matched, or cancelled by the rider
            if len(already) >= self._settings.max_offers_per_trip:
                break
            # Renewed before each offer but the first: taken a moment ago, it has its
            # whole time left.
            if not just_taken and not await lease.renew():
                return False  # the lease lapsed: whoever holds it now carries on
            just_taken = False
            answer = await self._offer_to_next(trip_id, pickup, already)
            if answer == "none":
                break
            pickup = await self._requested_pickup(trip_id)
        await self._give_up(trip_id)
        return True

    async def _offer_to_next(
        self, trip_id: int, pickup: tuple[float, float], already: set[int]
    ) -> str:
        candidates = await self._geo.nearest(
            *pickup,
            radii_km=self._settings.search_radii_km,
            max_steps=self._settings.max_search_steps,
            count=self._settings.candidates_per_radius,
            exclude=frozenset(already),
        )
        for candidate in candidates:
            offer = await self._offers.make(trip_id, candidate.driver_id, pickup)
            if offer is None:  # busy with another offer: not counted against this trip
                continue
            already.add(candidate.driver_id)
            answer = await self._offers.wait_for_answer(offer)
            if answer is None:
                await self._offers.withdraw(offer)
            return answer or "expired"
        return "none"

    async def _requested_pickup(self, trip_id: int) -> tuple[float, float] | None:
        async with self._sessions() as session:
            return await trips.requested_pickup(session, trip_id)

    async def _give_up(self, trip_id: int) -> None:
        async with self._sessions() as session, session.begin():
            cancelled = await trips.change(
                session,
                trip_id,
                to=TripStatus.CANCELLED,
                from_statuses=[TripStatus.REQUESTED],
                values={
                    "cancelled_by": CancelledBy.DISPATCH,
                    "cancel_reason": NO_DRIVER,
                    "ended_at": utcnow(),
                },
            )
        if cancelled is not None:  # None: the rider cancelled first, and was told then
            await updates.publish_state(self._redis, cancelled)
        logger.info("no driver for trip", extra={"trip_id": trip_id})

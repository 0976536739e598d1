"""The flusher: writes the pings of trips in progress from Redis to `trip_pings` as they
come, so that a trip's route outlives a Redis restart or an eviction (`rides.trips.history`).

Every few seconds, a page at a time: the rows of the trips in progress are locked (those
being completed at that moment are skipped: their completion writes the rest), each
driver's pointer to their trip set again (a Redis restart or an eviction lost it, or it
was never set: without it, their pings are not recorded), their pings read from Redis in
one round trip, and those newer than what each trip has stored (the watermark,
`repository.add_pings_of_locked`) inserted: two statements per page, whatever its size.
Once committed, the pings read are removed from Redis. A flush that failed between its
commit and that removal, or a completion that read the list before the flush, reads
pings already stored: the watermark leaves them out, so each ping is written once.
"""

import asyncio
import contextlib
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rides.trips import history
from rides.trips import repository as trips

logger = logging.getLogger(__name__)

# Trips per transaction: their rows stay locked while their pings are read and written.
BATCH = 100


class PingFlusher:
    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], redis: Redis) -> None:
        self._sessions = sessions
        self._redis = redis

    async def flush(self) -> int:
        """Stores the new pings of every trip in progress; returns how many it wrote."""
        written, after_id = 0, 0
        while True:
            async with self._sessions() as session, session.begin():
                page = await trips.lock_in_progress(session, after_id=after_id, limit=BATCH)
                if not page:
                    return written
                await history.point_to(self._redis, {t.driver_id: t.trip_id for t in page})
                read = await history.unflushed(self._redis, {t.trip_id: t.started_at for t in page})
                written += await trips.add_pings_of_locked(
                    session, {trip.trip_id: trip.pings for trip in read}
                )
            # Committed: the block above has ended.
            await history.forget_flushed(self._redis, read)
            if len(page) < BATCH:
                return written
            after_id = page[-1].trip_id

    async def run(self, stop: asyncio.Event, *, every_seconds: float) -> None:
        while not stop.is_set():
            try:
                await self.flush()
            except (RedisError, SQLAlchemyError, OSError):
                # Redis or PostgreSQL down: the next flush finds the same pings, or those
                # Redis still has.
                logger.exception("ping flush failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_seconds)

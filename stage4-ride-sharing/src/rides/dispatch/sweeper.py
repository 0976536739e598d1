"""The sweeper: queues again the requested trips whose stream entry was lost.

A trip is added to the stream once its transaction has committed; if Redis fails just
then, the trip is committed and never queued, and the request's answer (201) cannot take
the commit back. So every few seconds the sweeper reads the trips still requested after
`requeue_after_seconds` and queues each one whose queued-marker is missing
(`TripRequests.publish` adds the entry and the marker in one script, and only if the
marker is absent). A trip that is queued, or worked on, keeps its marker and is left
alone; two sweepers, or a sweeper and the request itself, add one entry between them.

Each sweep also trims the stream of the entries the dispatchers have acknowledged
(`TripRequests.trim`), so that it holds the trips being decided, not every trip ever.
"""

import asyncio
import contextlib
import logging
from datetime import timedelta

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rides.models import Trip, TripStatus
from rides.streams import TripRequests
from roadmap_shared.database import utcnow

logger = logging.getLogger(__name__)

# At most this many trips per sweep: a backlog is worked through over several sweeps.
BATCH = 100


class Sweeper:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        queue: TripRequests,
        requeue_after_seconds: float,
    ) -> None:
        self._sessions = sessions
        self._queue = queue
        self._requeue_after = timedelta(seconds=requeue_after_seconds)

    async def sweep(self) -> list[int]:
        """Queues the lost trips, trims the stream; returns the ids of the trips queued."""
        async with self._sessions() as session:
            waiting = await session.scalars(
                select(Trip.id)
                .where(
                    Trip.status == TripStatus.REQUESTED,
                    Trip.created_at < utcnow() - self._requeue_after,
                )
                .order_by(Trip.id)
                .limit(BATCH)
            )
            trip_ids = list(waiting)
        requeued = [trip_id for trip_id in trip_ids if await self._queue.publish(trip_id)]
        if requeued:
            logger.warning("trips queued again", extra={"trip_ids": requeued})
        await self._queue.trim()
        return requeued

    async def run(self, stop: asyncio.Event, *, every_seconds: float) -> None:
        while not stop.is_set():
            try:
                await self.sweep()
            except (RedisError, SQLAlchemyError, OSError):
                # Redis or PostgreSQL down: the next sweep finds the same trips.
                logger.exception("sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_seconds)

"""One rider's socket: the trip it follows, pushed as it changes.

`follow` subscribes to the trip's channel first and reads the trip from PostgreSQL second,
then sends that state and everything the channel brings: a state committed before the
read is in the read, one committed after it is published after the subscription (states
are published only once committed, `rides.trips.updates`). A state may so arrive twice,
or an older one after a newer (two instances publishing at once); the socket sends each
version once, in increasing order, and positions only until the trip is over.

Pub/sub delivers at most once, and a publish that failed (Redis unreachable just after a
commit) is not retried: a heartbeat of a rider following a trip that is not over reads the
trip again, at most every `rider_reread_seconds` (a client may send heartbeats as fast as
it likes, and each read is a PostgreSQL query), so a lost state reaches the rider within
that time and a heartbeat.
"""

import asyncio
import time
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket

from rides.config import Settings
from rides.models import TripStatus
from rides.riders import protocol
from rides.sockets.connection import SocketConnection, stop_forwarding
from rides.trips import repository as trips
from rides.trips import updates

OVER = frozenset({TripStatus.COMPLETED, TripStatus.CANCELLED})


class RiderConnection(SocketConnection):
    def __init__(
        self,
        websocket: WebSocket,
        *,
        rider_id: int,
        settings: Settings,
        redis: Redis,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        super().__init__(websocket, settings=settings)
        self.rider_id = rider_id
        self._redis = redis
        self._sessions = sessions
        self._pubsub: PubSub | None = None
        self._forwarding: asyncio.Task[None] | None = None
        self._following: int | None = None
        self._sent_version = 0
        self._over = False
        self._read_at = 0.0  # when the followed trip was last read (monotonic)

    async def _opened(self) -> None:
        await self.send({"type": "ready", "rider_id": self.rider_id})

    async def _closed(self) -> None:
        await stop_forwarding(self._forwarding, self._pubsub)

    async def _handle(self, text: str) -> None:
        try:
            message = protocol.rider_message.validate_json(text)
        except ValidationError as invalid:
            first = invalid.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "message"
            await self._bad("invalid_message", f"{where}: {first['msg']}")
            return
        if isinstance(message, protocol.Follow):
            await self._follow(message.trip_id)
        elif isinstance(message, protocol.Auth):
            await self._bad("already_authenticated", "This socket is already signed in")
        else:  # a heartbeat: receiving it has reset the deadline
            await self._catch_up()

    async def _catch_up(self) -> None:
        """Sends the followed trip's state if it is newer than the last one sent."""
        if self._following is None or self._over:
            return
        now = time.monotonic()
        if now - self._read_at < self._settings.rider_reread_seconds:
            return
        self._read_at = now
        async with self._sessions() as session:
            trip = await trips.get(session, self._following)
        if trip is not None:
            await self._deliver(updates.state_frame(trip))

    async def _follow(self, trip_id: int) -> None:
        """Follows one trip at a time: a new `follow` replaces the last."""
        await stop_forwarding(self._forwarding, self._pubsub)
        self._forwarding, self._following = None, None
        self._pubsub = self._redis.pubsub()
        await self._pubsub.subscribe(updates.trip_channel(trip_id))
        async with self._sessions() as session:
            trip = await trips.get(session, trip_id)
        # Another rider's trip looks exactly like one that does not exist.
        if trip is None or trip.rider_id != self.rider_id:
            await stop_forwarding(None, self._pubsub)
            self._pubsub = None
            await self._bad("unknown_trip", "No such trip")
            return
        self._following, self._sent_version, self._over = trip.id, 0, False
        self._read_at = time.monotonic()
        await self._deliver(updates.state_frame(trip))
        self._forwarding = asyncio.create_task(self._forward(self._pubsub))

    async def _deliver(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "trip":
            state = frame["trip"]
            if state["version"] <= self._sent_version:
                return  # a duplicate, or older than what the rider has
            self._sent_version = state["version"]
            self._over = TripStatus(state["status"]) in OVER
        elif self._over:
            return  # a ping published as the trip ended
        await self.send(frame)

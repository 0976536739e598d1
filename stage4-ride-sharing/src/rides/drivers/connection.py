"""One driver's socket, from its ticket to its close.

Two loops run side by side (`rides.sockets.connection`): one reads the driver's frames,
one forwards what Redis pub/sub brings on the driver's channel (offers made by a
dispatcher on any instance). Each ping also reaches the rider of the driver's active trip,
on the trip's channel (`rides.trips.updates`), and joins the trip's history
(`rides.trips.history`), all checked and written by one script (`rides.drivers.pings`).
"""

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket

from rides.config import Settings
from rides.dispatch import answers
from rides.dispatch.offers import Offers, driver_channel
from rides.drivers import protocol
from rides.drivers.pings import Pings
from rides.geo.index import GeoIndex
from rides.sockets.connection import SocketConnection, stop_forwarding
from rides.trips import updates

# Longer than any socket lives: the key of an instance that died (and never closed its
# sockets) goes by itself.
CONNECTION_SECONDS = 24 * 3600


def current_connection_key(driver_id: int) -> str:
    """Names the driver's current socket: only it takes the driver offline as it closes."""
    return f"rides:driver:{driver_id}:connection"


class DriverConnection(SocketConnection):
    def __init__(
        self,
        websocket: WebSocket,
        *,
        driver_id: int,
        settings: Settings,
        redis: Redis,
        geo: GeoIndex,
        offers: Offers,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        super().__init__(websocket, settings=settings)
        self.driver_id = driver_id
        self._redis = redis
        self._geo = geo
        self._offers = offers
        self._pings = Pings(redis, geo, max_speed_kmh=settings.max_speed_kmh)
        self._sessions = sessions
        self._sent_offers: set[str] = set()
        self._last_ping_at = 0.0
        self._pubsub: PubSub | None = None
        self._forwarding: asyncio.Task[None] | None = None
        self._connection_id = secrets.token_hex(8)

    async def _opened(self) -> None:
        # This socket is the driver's current one from now on: one they had before (a
        # connection that dropped, on this instance or another) may close after this one
        # opened, and must not take the driver offline then.
        await self._redis.set(
            current_connection_key(self.driver_id), self._connection_id, ex=CONNECTION_SECONDS
        )
        self._pubsub = self._redis.pubsub()
        await self._pubsub.subscribe(driver_channel(self.driver_id))
        self._forwarding = asyncio.create_task(self._forward(self._pubsub))
        await self.send({"type": "ready", "driver_id": self.driver_id})
        # Subscribed first, then the pending offer: one made in between arrives both
        # ways, and `_deliver` sends it once.
        if (offer := await self._offers.pending_for(self.driver_id)) is not None:
            await self._deliver(offer.frame())

    async def _closed(self) -> None:
        await stop_forwarding(self._forwarding, self._pubsub)
        # Offline at once, never a candidate again until it pings; unless the driver has
        # reconnected since, on another socket.
        await self._geo.forget(
            self.driver_id,
            connection_key=current_connection_key(self.driver_id),
            connection_id=self._connection_id,
        )

    async def _handle(self, text: str) -> None:
        try:
            message = protocol.driver_message.validate_json(text)
        except ValidationError as invalid:
            first = invalid.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "message"
            await self._bad("invalid_message", f"{where}: {first['msg']}")
            return
        handlers: dict[type, Callable[[Any], Awaitable[None]]] = {
            protocol.Ping: self._ping,
            protocol.Heartbeat: self._heartbeat,
            protocol.Availability: self._availability,
            protocol.Accept: self._accept,
            protocol.Decline: self._decline,
            protocol.Auth: self._auth_again,
        }
        await handlers[type(message)](message)

    async def _ping(self, ping: protocol.Ping) -> None:
        now = time.time()
        if now - self._last_ping_at < self._settings.min_ping_interval_seconds:
            await self._bad("too_many_pings", "Pings come every few seconds at most")
            return
        trip_id = await self._pings.record(self.driver_id, ping.lat, ping.lng, now)
        if trip_id is None:
            await self._bad("implausible_position", "Too far from the last position too fast")
            return
        self._last_ping_at = now
        if trip_id:  # the rider's socket hears of it
            await updates.publish_position(self._redis, trip_id, ping.lat, ping.lng)

    async def _heartbeat(self, _: protocol.Heartbeat) -> None:
        await self._geo.touch(self.driver_id)

    async def _availability(self, message: protocol.Availability) -> None:
        await self._geo.set_available(self.driver_id, message.available)

    async def _accept(self, message: protocol.Accept) -> None:
        try:
            accepted = await answers.accept(
                self._sessions,
                self._offers,
                self._geo,
                self._redis,
                offer_id=message.offer_id,
                driver_id=self.driver_id,
            )
        except answers.OfferRefused as refused:
            await self._bad(refused.code, refused.detail)
            return
        trip = accepted.trip
        await self.send({"type": "assigned", "trip_id": trip.id, "version": trip.version})

    async def _decline(self, message: protocol.Decline) -> None:
        try:
            await answers.decline(self._offers, offer_id=message.offer_id, driver_id=self.driver_id)
        except answers.OfferRefused as refused:
            await self._bad(refused.code, refused.detail)
            return
        await self.send({"type": "declined", "offer_id": message.offer_id})

    async def _auth_again(self, _: protocol.Auth) -> None:
        await self._bad("already_authenticated", "This socket is already signed in")

    async def _deliver(self, frame: dict[str, Any]) -> None:
        if frame.get("type") == "offer":
            offer_id = str(frame["offer_id"])
            if offer_id in self._sent_offers:
                return
            self._sent_offers.add(offer_id)
        await self.send(frame)

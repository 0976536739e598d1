"""One driver's socket, from its ticket to its close.

Two loops run side by side: one reads the driver's frames (with the heartbeat timeout as
its deadline), one forwards what Redis pub/sub brings on the driver's channel (offers
made by a dispatcher on any instance). Whatever a frame holds, the answer is an error
frame or a close code: a handler that raised would end every other driver's day too.
"""

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket, WebSocketDisconnect

from rides.config import Settings
from rides.dispatch import answers
from rides.dispatch.offers import Offers, driver_channel
from rides.drivers import protocol
from rides.geo.distance import haversine_km
from rides.geo.index import GeoIndex
from rides.models import TripStatus
from rides.trips import repository as trips

logger = logging.getLogger(__name__)

# Bad frames a driver may send before the socket is closed: a client that keeps sending
# them is broken or probing, and each costs a parse and an answer.
MAX_BAD_FRAMES = 20
PUBSUB_POLL_SECONDS = 0.25  # below the Redis client's socket timeout


class Closed(Exception):
    """Ends the connection with a close code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class DriverConnection:
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
        self._ws = websocket
        self.driver_id = driver_id
        self._settings = settings
        self._redis = redis
        self._geo = geo
        self._offers = offers
        self._sessions = sessions
        self._send_lock = asyncio.Lock()
        self._sent_offers: set[str] = set()
        self._last_ping_at = 0.0
        self._bad_frames = 0

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self._ws.send_json(frame)

    async def run(self) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(driver_channel(self.driver_id))
        forward = asyncio.create_task(self._forward(pubsub))
        try:
            await self.send({"type": "ready", "driver_id": self.driver_id})
            # Subscribed first, then the pending offer: one made in between arrives both
            # ways, and `_deliver` sends it once.
            if (offer := await self._offers.pending_for(self.driver_id)) is not None:
                await self._deliver(offer.frame())
            await self._read()
        except Closed as closed:
            await self._ws.close(closed.code, closed.reason)
        except WebSocketDisconnect:
            pass
        finally:
            forward.cancel()
            await asyncio.gather(forward, return_exceptions=True)
            # redis-py leaves `aclose` unannotated.
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            # Offline at once: never a candidate again until it pings.
            await self._geo.forget(self.driver_id)

    async def _read(self) -> None:
        while True:
            try:
                message = await asyncio.wait_for(
                    self._ws.receive(), self._settings.heartbeat_timeout_seconds
                )
            except TimeoutError:
                raise Closed(protocol.TIMED_OUT, "No heartbeat") from None
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                await self._bad("text_only", "Send JSON in text frames")
            elif len(text.encode()) > self._settings.max_frame_bytes:
                raise Closed(protocol.MESSAGE_TOO_BIG, "Frame too large")
            else:
                await self._handle(text)

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

    async def _bad(self, code: str, detail: str) -> None:
        self._bad_frames += 1
        if self._bad_frames > MAX_BAD_FRAMES:
            raise Closed(protocol.POLICY_VIOLATION, "Too many invalid messages")
        await self.send(protocol.error(code, detail))

    async def _ping(self, ping: protocol.Ping) -> None:
        now = time.time()
        if now - self._last_ping_at < self._settings.min_ping_interval_seconds:
            await self._bad("too_many_pings", "Pings come every few seconds at most")
            return
        last = await self._geo.last_seen(self.driver_id)
        if last is not None and self._implausible(last, ping, now):
            await self._bad("implausible_position", "Too far from the last position too fast")
            return
        self._last_ping_at = now
        await self._geo.record(self.driver_id, ping.lat, ping.lng)
        await self._keep_trip_history(ping)

    def _implausible(
        self, last: tuple[float, float, float], ping: protocol.Ping, now: float
    ) -> bool:
        lat, lng, seen = last
        distance = haversine_km(lat, lng, ping.lat, ping.lng)
        hours = max(now - seen, 0.0) / 3600
        # Redis stores positions to about half a metre; a few metres of GPS jitter between
        # two pings a moment apart is not a car at 1,000 km/h.
        return distance > 0.05 and distance > self._settings.max_speed_kmh * hours

    async def _keep_trip_history(self, ping: protocol.Ping) -> None:
        async with self._sessions() as session, session.begin():
            trip = await trips.active_for_driver(session, self.driver_id)
            if trip is not None and trip.status is TripStatus.IN_PROGRESS:
                await trips.add_ping(session, trip.id, ping.lat, ping.lng)

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

    async def _forward(self, pubsub: PubSub) -> None:
        while True:
            message = await pubsub.get_message(
                ignore_subscribe_messages=True, timeout=PUBSUB_POLL_SECONDS
            )
            if message is not None:
                await self._deliver(json.loads(message["data"]))

    async def _deliver(self, frame: dict[str, Any]) -> None:
        offer_id = frame.get("offer_id")
        if isinstance(offer_id, str):
            if offer_id in self._sent_offers:
                return
            self._sent_offers.add(offer_id)
        await self.send(frame)

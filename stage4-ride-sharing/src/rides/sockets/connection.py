"""What both sockets do the same way once signed in: read frames under the heartbeat
deadline, refuse what is not a small JSON text frame, count bad frames, and forward what
Redis pub/sub brings. Whatever a frame holds, the answer is an error frame or a close
code: a handler that raised would end every other client's day too."""

import asyncio
import json
from abc import ABC, abstractmethod
from typing import Any

from redis.asyncio.client import PubSub
from starlette.websockets import WebSocket, WebSocketDisconnect

from rides.config import Settings
from rides.sockets import protocol

# Bad frames a client may send before the socket is closed: a client that keeps sending
# them is broken or probing, and each costs a parse and an answer.
MAX_BAD_FRAMES = 20
PUBSUB_POLL_SECONDS = 0.25  # below the Redis client's socket timeout


class Closed(Exception):
    """Ends the connection with a close code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class SocketConnection(ABC):
    def __init__(self, websocket: WebSocket, *, settings: Settings) -> None:
        self._ws = websocket
        self._settings = settings
        self._send_lock = asyncio.Lock()
        self._bad_frames = 0

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self._ws.send_json(frame)

    async def run(self) -> None:
        try:
            await self._opened()
            await self._read()
        except Closed as closed:
            await self._ws.close(closed.code, closed.reason)
        except WebSocketDisconnect:
            pass
        finally:
            await self._closed()

    @abstractmethod
    async def _opened(self) -> None:
        """Runs once signed in, before the first frame is read: subscribe, say `ready`."""

    @abstractmethod
    async def _handle(self, text: str) -> None:
        """One text frame of an acceptable size."""

    @abstractmethod
    async def _deliver(self, frame: dict[str, Any]) -> None:
        """A frame published for this client on Redis pub/sub."""

    @abstractmethod
    async def _closed(self) -> None:
        """Runs once the socket is closed, however it ended."""

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

    async def _bad(self, code: str, detail: str) -> None:
        self._bad_frames += 1
        if self._bad_frames > MAX_BAD_FRAMES:
            raise Closed(protocol.POLICY_VIOLATION, "Too many invalid messages")
        await self.send(protocol.error(code, detail))

    async def _forward(self, pubsub: PubSub) -> None:
        """Sends on what `pubsub` receives, until cancelled."""
        while True:
            message = await pubsub.get_message(
                ignore_subscribe_messages=True, timeout=PUBSUB_POLL_SECONDS
            )
            if message is not None:
                await self._deliver(json.loads(message["data"]))


async def stop_forwarding(task: "asyncio.Task[None] | None", pubsub: PubSub | None) -> None:
    """Cancels a `_forward` task and closes its subscription."""
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    if pubsub is not None:
        # redis-py leaves `aclose` unannotated.
        await pubsub.aclose()  # type: ignore[no-untyped-call]

"""Helpers for tests of RabbitMQ producers and consumers (`roadmap_shared.messaging`).

Every test gets exchanges and queues of its own, named with a random suffix
(`unique_subscription`), and deletes them afterwards, so tests never see each other's
messages on the shared broker. `TcpProxy` sits between a client and the broker and
drops every connection on demand: the broker "restarting" without touching the broker.
"""

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from urllib.parse import urlsplit

from aio_pika import connect_robust
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection

from roadmap_shared.messaging.topology import Subscription, delete_subscription

# Short enough for a suite to wait through every retry, long enough to be seen as a delay.
TEST_RETRY_DELAYS_SECONDS = (0.2, 0.4)
WAIT_SECONDS = 15.0


def unique_subscription(
    prefix: str,
    event_types: Sequence[str],
    *,
    exchange: str | None = None,
    retry_delays_seconds: Sequence[float] = TEST_RETRY_DELAYS_SECONDS,
) -> Subscription:
    suffix = uuid.uuid4().hex[:10]
    return Subscription(
        name=f"test.{prefix}.{suffix}",
        event_types=tuple(event_types),
        exchange=exchange or f"test.events.{suffix}",
        retry_delays_seconds=tuple(retry_delays_seconds),
    )


@contextlib.asynccontextmanager
async def topology_removed_after(
    url: str, subscription: Subscription
) -> AsyncIterator[AbstractRobustConnection]:
    """A connection for the test's own clients; the subscription's queues and exchanges
    are deleted when the block ends."""
    connection = await connect_robust(url)
    try:
        yield connection
    finally:
        channel = await connection.channel()
        await delete_subscription(channel, subscription)
        await channel.exchange_delete(subscription.exchange)
        await connection.close()


async def take_all(channel: AbstractChannel, queue_name: str) -> list[AbstractIncomingMessage]:
    """Removes and returns every message waiting in `queue_name`."""
    queue = await channel.get_queue(queue_name, ensure=False)
    taken = []
    while (message := await queue.get(no_ack=True, fail=False)) is not None:
        taken.append(message)
    return taken


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within_seconds: float = WAIT_SECONDS, what: str = ""
) -> None:
    """Waits until `check()` is true; fails the test after `within_seconds`."""
    deadline = time.monotonic() + within_seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {within_seconds} s: {what or check}")
        await asyncio.sleep(0.05)


class TcpProxy:
    """Forwards a local port to the broker; `drop()` cuts every connection through it, as
    a broker restart or a network failure would."""

    def __init__(self, target_url: str) -> None:
        target = urlsplit(target_url)
        self._target_host = target.hostname or "127.0.0.1"
        self._target_port = target.port or 5672
        self._target_url = target
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.connections = 0

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the proxy is not started")
        port = self._server.sockets[0].getsockname()[1]
        netloc = self._target_url.netloc.rsplit("@", 1)
        host = f"127.0.0.1:{port}"
        return self._target_url._replace(
            netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host
        ).geturl()

    async def __aenter__(self) -> "TcpProxy":
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.close()
        self.drop()

    def drop(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self._target_host, self._target_port
            )
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, upstream_writer}
        await asyncio.gather(
            _pipe(reader, upstream_writer), _pipe(upstream_reader, writer), return_exceptions=True
        )
        self._writers -= {writer, upstream_writer}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    finally:
        writer.transport.abort()

"""Helpers for tests over live servers (`server`, `instance_b`): frames read with a bounded
wait, a driver online on its socket, a rider following a trip on theirs, and dispatchers
running in the background."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from httpx import AsyncClient
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from rides.dispatch.dispatcher import Dispatcher
from tests.factories import PICKUP, ticket

# Bounds every wait for a frame; the server answers in milliseconds.
FRAME_SECONDS = 5
# Bounds the wait for dispatchers to stop (each finishes the offer it is waiting on).
STOP_SECONDS = 20


async def receive(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), FRAME_SECONDS))
    return frame


async def receive_type(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next frame of type `kind`, skipping others (positions between two states)."""
    while (frame := await receive(ws))["type"] != kind:
        pass
    return frame


async def closed_with(ws: ClientConnection) -> int:
    """The close code the server sent, once it closes (frames before it are skipped)."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), FRAME_SECONDS)
    except ConnectionClosed as closed:
        # No close frame received reads as 1006 (abnormal closure), which no test expects.
        return closed.rcvd.code if closed.rcvd is not None else 1006


async def handled(ws: ClientConnection) -> None:
    """Returns once the server has handled every frame sent so far (frames are handled in
    order, and this one is answered with an error), and nothing else was sent meanwhile."""
    await ws.send("{}")
    assert (await receive(ws))["code"] == "invalid_message"


@asynccontextmanager
async def signed_in_socket(
    address: str, path: str, http: AsyncClient, user: dict[str, str]
) -> AsyncIterator[ClientConnection]:
    """`path` on `address`, signed in with a ticket of `user` (its headers, from `http`)."""
    issued = await ticket(http, user)  # before connecting: the server waits a second only
    async with connect(f"ws://{address}{path}", open_timeout=FRAME_SECONDS) as ws:
        await ws.send(json.dumps({"type": "auth", "ticket": issued}))
        assert (await receive(ws))["type"] == "ready"
        yield ws


@asynccontextmanager
async def online_driver(
    address: str, http: AsyncClient, driver: dict[str, str], point: dict[str, float] = PICKUP
) -> AsyncIterator[ClientConnection]:
    """A driver's socket on `address`, at `point` and available, once the server has it."""
    async with signed_in_socket(address, "/drivers/socket", http, driver) as ws:
        await ws.send(json.dumps({"type": "ping", **point}))
        await ws.send(json.dumps({"type": "availability", "available": True}))
        await handled(ws)
        yield ws


@asynccontextmanager
async def following(
    address: str, http: AsyncClient, rider: dict[str, str], trip_id: int
) -> AsyncIterator[ClientConnection]:
    """A rider's socket on `address` following `trip_id`; its first frame (the trip's
    state) is left for the test to read."""
    async with signed_in_socket(address, "/riders/socket", http, rider) as ws:
        await ws.send(json.dumps({"type": "follow", "trip_id": trip_id}))
        yield ws


@asynccontextmanager
async def dispatching(*dispatchers: Dispatcher) -> AsyncIterator[None]:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(dispatcher.run(stop)) for dispatcher in dispatchers]
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), STOP_SECONDS)

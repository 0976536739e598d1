"""The issue's size, over real HTTP and real sockets, on two instances (processes): fifty drivers on
their sockets accept every offer as it arrives, two hundred riders request a trip at once
and follow it on theirs, three dispatchers share the stream. Whatever the interleaving,
PostgreSQL ends with no driver on two trips, no rider on two, every trip matched or
refused by dispatch, and each rider's socket told the final state.

Every wait is bounded (`DEADLINE_SECONDS` for the whole, `FRAME_SECONDS` for a frame); a
passing run took 20 to 30 s on two cores shared with other work, and starting the two
instances 10 to 20 s more."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rides.config import Settings
from rides.dispatch.dispatcher import NO_DRIVER, Dispatcher
from rides.dispatch.offers import Offers
from rides.geo.index import GeoIndex
from rides.models import CancelledBy, Role, Trip, TripStatus
from rides.streams import TripRequests
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE
from roadmap_shared.testing.factories import TEST_JWT_KEY
from roadmap_shared.testing.private_servers import free_port, wait_until_listening
from tests.conftest import make_settings
from tests.factories import DROPOFF, PICKUP, committed_users, north_of
from tests.live import STOP_SECONDS, dispatching, online_driver, signed_in_socket

RIDERS = 200
DRIVERS = 50
DISPATCHERS = 3
DEADLINE_SECONDS = 45
FINAL = {TripStatus.DRIVER_ASSIGNED.value, TripStatus.CANCELLED.value}


@pytest.fixture
def server_settings(database_url: str, redis_url: str) -> Settings:
    # Offers long enough that none expires under the load of the test itself: an expired
    # offer is correct too, but the point here is racing accepts, not deadlines.
    return make_settings(database_url, redis_url, offer_seconds=10.0, lease_seconds=15.0)


@contextmanager
def instances(settings: Settings, directory: Path, count: int) -> Iterator[list[str]]:
    """The app in `count` processes of its own, as `python -m rides` starts it; their
    addresses. Not threads of this one (`live_server`): two instances, 250 clients and the
    dispatchers sharing one interpreter would take turns, and a Redis reply left waiting
    past the client's half-second timeout would fail the request, as no deployment would."""
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("RIDES_")
    }
    environment |= {
        "RIDES_ENVIRONMENT": "test",
        "RIDES_LOG_LEVEL": "WARNING",
        "RIDES_DATABASE_URL": settings.database_url,
        "RIDES_REDIS_URL": settings.redis_url,
        "RIDES_JWT_KEYS": json.dumps({"test": TEST_JWT_KEY}),
        "RIDES_JWT_ACTIVE_KID": "test",
        "RIDES_OFFER_SECONDS": str(settings.offer_seconds),
        "RIDES_LEASE_SECONDS": str(settings.lease_seconds),
        "RIDES_MIN_PING_INTERVAL_SECONDS": "0",
    }
    ports = [free_port() for _ in range(count)]
    processes = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "rides", "--port", str(port)],
            env=environment,
            cwd=directory,  # away from any developer's `.env`
            stdout=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            wait_until_listening(port, process)
        yield [f"127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_SECONDS)


@pytest.fixture
async def clients(
    server_settings: Settings, tmp_path: Path
) -> AsyncIterator[list[tuple[str, AsyncClient]]]:
    """Two instances, each with a client."""
    with instances(server_settings, tmp_path, 2) as (a, b):
        async with (
            AsyncClient(base_url=f"http://{a}", timeout=DEADLINE_SECONDS) as on_a,
            AsyncClient(base_url=f"http://{b}", timeout=DEADLINE_SECONDS) as on_b,
        ):
            yield [(a, on_a), (b, on_b)]


def bearer(settings: Settings, user_id: int) -> dict[str, str]:
    """An access token as `/users/login` issues it: 250 sign-ins would test argon2."""
    issued = settings.token_codec().encode(
        subject=str(user_id), token_type=ACCESS_TOKEN_TYPE, lifetime=timedelta(minutes=10)
    )
    return {"Authorization": f"Bearer {issued.token}"}


def spot(number: int) -> dict[str, float]:
    """Fifty spots 300 m apart along a line north of the pickup: each driver starts at one,
    four riders wait at each."""
    return north_of(PICKUP, 0.3 * (number % DRIVERS))


class Gate:
    """Counts arrivals; `all_in` is set once `expected` have arrived."""

    def __init__(self, expected: int) -> None:
        self._left = expected
        self.all_in = asyncio.Event()

    def arrive(self) -> None:
        self._left -= 1
        if self._left == 0:
            self.all_in.set()


async def drive(
    *,
    address: str,
    http: AsyncClient,
    driver: dict[str, str],
    number: int,
    online: Gate,
) -> None:
    """A driver at their spot, accepting every offer as it arrives, until cancelled."""
    async with online_driver(address, http, driver, spot(number)) as ws:
        online.arrive()
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "offer":
                await ws.send(json.dumps({"type": "accept", "offer_id": frame["offer_id"]}))


async def ride(
    *,
    address: str,
    http: AsyncClient,
    rider: dict[str, str],
    number: int,
    ready: Gate,
    start: asyncio.Event,
) -> dict[str, Any]:
    """Requests a trip once everyone is `start`ed and follows it on the socket it opened
    before; returns the last state the socket told (matched or refused)."""
    async with signed_in_socket(address, "/riders/socket", http, rider) as ws:
        ready.arrive()
        await start.wait()
        body = {"pickup": spot(number), "dropoff": DROPOFF}
        response = await http.post("/trips", json=body, headers=rider)
        assert response.status_code == 201, response.text
        await ws.send(json.dumps({"type": "follow", "trip_id": response.json()["id"]}))
        while True:
            # Not `FRAME_SECONDS`: a trip waits its turn behind up to 199 others.
            frame = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_SECONDS))
            assert frame["type"] == "trip", frame
            if frame["trip"]["status"] in FINAL:
                told: dict[str, Any] = frame["trip"]
                return told


async def test_two_hundred_riders_and_fifty_drivers_at_once(
    *,
    clients: list[tuple[str, AsyncClient]],
    server_settings: Settings,
    committed_session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    redis_client: Redis,
    geo: GeoIndex,
    offers: Offers,
    trip_requests: TripRequests,
) -> None:
    rider_ids = await committed_users(committed_session, Role.RIDER, RIDERS)
    driver_ids = await committed_users(committed_session, Role.DRIVER, DRIVERS)
    dispatchers = [
        Dispatcher(
            settings=server_settings,
            sessions=sessions,
            redis=redis_client,
            geo=geo,
            offers=offers,
            queue=trip_requests,
            name=f"d{number}",
        )
        for number in range(DISPATCHERS)
    ]
    online, ready = Gate(DRIVERS), Gate(RIDERS)
    start = asyncio.Event()

    async def everyone() -> list[dict[str, Any]]:
        async with asyncio.TaskGroup() as group:
            drivers = [
                group.create_task(
                    drive(
                        address=clients[number % 2][0],
                        http=clients[number % 2][1],
                        driver=bearer(server_settings, driver_id),
                        number=number,
                        online=online,
                    )
                )
                for number, driver_id in enumerate(driver_ids)
            ]
            riders = [
                group.create_task(
                    ride(
                        address=clients[number % 2][0],
                        http=clients[number % 2][1],
                        rider=bearer(server_settings, rider_id),
                        number=number,
                        ready=ready,
                        start=start,
                    )
                )
                for number, rider_id in enumerate(rider_ids)
            ]
            await online.all_in.wait()
            await ready.all_in.wait()
            async with dispatching(*dispatchers):
                start.set()
                told = await asyncio.gather(*riders)
            for driving in drivers:
                driving.cancel()
        return told

    told = await asyncio.wait_for(everyone(), DEADLINE_SECONDS)

    trips = list(await committed_session.scalars(select(Trip)))
    assert len(trips) == RIDERS
    assert len({trip.rider_id for trip in trips}) == RIDERS  # no rider on two
    assigned = [trip.driver_id for trip in trips if trip.status is TripStatus.DRIVER_ASSIGNED]
    assert len(assigned) == len(set(assigned))  # no driver on two
    assert 0 < len(assigned) <= DRIVERS
    refused = [trip for trip in trips if trip.status is not TripStatus.DRIVER_ASSIGNED]
    assert all(
        (trip.status, trip.cancelled_by, trip.cancel_reason, trip.driver_id)
        == (TripStatus.CANCELLED, CancelledBy.DISPATCH, NO_DRIVER, None)
        for trip in refused
    )
    # Each rider was told, on the socket, the state PostgreSQL ended with.
    final = {trip.id: (trip.status.value, trip.version) for trip in trips}
    assert {state["id"]: (state["status"], state["version"]) for state in told} == final

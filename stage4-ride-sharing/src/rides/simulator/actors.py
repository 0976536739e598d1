"""Simulated drivers and riders: real clients of a running stage, over HTTP and the driver
socket, as an app on a phone would be.

A driver signs up, opens its socket with a ticket, says it is available and pings a new
position every couple of seconds, wandering in the city box. It declines a share of its
offers at random and accepts the others; an assigned trip it drives through `arriving`,
`in_progress` (pinging on the way) and `completed`, then it is available again.

A rider signs up and, over and over: requests a trip between two points of the box, reads
it until it is over, and pauses. The time from the request to the driver's `assigned`
frame is the time to match the simulation reports.
"""

import asyncio
import json
import math
import random
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from rides.simulator.stats import Stats

# Random per run: the simulated accounts are left behind, and nobody signs in as them.
PASSWORD = secrets.token_urlsafe(18)
PING_SECONDS = 2.0  # above the stage's least interval between pings (1 s by default)
SPEED_KMH = 30.0
READ_TRIP_SECONDS = 0.5


@dataclass(frozen=True)
class CityBox:
    """Where everyone is: a square around `centre`, `half_km` from it each way."""

    centre_lat: float = 48.8566
    centre_lng: float = 2.3522
    half_km: float = 2.0

    def somewhere(self, rng: random.Random) -> tuple[float, float]:
        lat_span = self.half_km / 111.2
        lng_span = lat_span / math.cos(math.radians(self.centre_lat))
        return (
            self.centre_lat + rng.uniform(-lat_span, lat_span),
            self.centre_lng + rng.uniform(-lng_span, lng_span),
        )


def toward(here: tuple[float, float], there: tuple[float, float], km: float) -> tuple[float, float]:
    """A point `km` from `here` on the way to `there` (`there` itself if nearer)."""
    dlat, dlng = there[0] - here[0], there[1] - here[1]
    distance_km = math.hypot(dlat * 111.2, dlng * 111.2 * math.cos(math.radians(here[0])))
    if distance_km <= km:
        return there
    share = km / distance_km
    return here[0] + dlat * share, here[1] + dlng * share


@dataclass
class World:
    """What every actor shares: the API, the box, the counters, and when each trip was
    requested (a driver's `assigned` frame closes the time to match)."""

    http: httpx.AsyncClient
    socket_url: str
    box: CityBox
    stats: Stats
    rng: random.Random
    decline_share: float
    requested_at: dict[int, float]


async def signed_up(world: World, role: str, number: int, run: str) -> dict[str, str]:
    """A new account's `Authorization` header (waiting out the login rate limit if hit)."""
    email = f"sim-{run}-{role}-{number}@example.com"
    account = {"email": email, "name": f"Simulated {role} {number}", "password": PASSWORD}
    created = await world.http.post("/users", json={**account, "role": role})
    created.raise_for_status()
    while True:
        login = await world.http.post("/users/login", json={"email": email, "password": PASSWORD})
        if login.status_code != 429:
            break
        await asyncio.sleep(float(login.headers.get("Retry-After", "1")))
    login.raise_for_status()
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


class Driver:
    def __init__(self, world: World, headers: dict[str, str], number: int) -> None:
        self._world = world
        self._headers = headers
        self.number = number
        self._position = world.box.somewhere(world.rng)
        self._heading_to = world.box.somewhere(world.rng)
        self._on_trip = False
        self._driving: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        ticket = await self._world.http.post("/users/me/socket-ticket", headers=self._headers)
        ticket.raise_for_status()
        async with connect(self._world.socket_url) as socket:
            await socket.send(json.dumps({"type": "auth", "ticket": ticket.json()["ticket"]}))
            ready = json.loads(await socket.recv())
            if ready.get("type") != "ready":
                raise RuntimeError(f"driver {self.number}: the socket answered {ready}")
            await self._ping(socket)
            await self._available(socket, True)
            pinging = asyncio.create_task(self._keep_pinging(socket))
            try:
                await self._answer(socket)
            finally:
                for task in [pinging, *self._driving]:
                    task.cancel()
                await asyncio.gather(pinging, *self._driving, return_exceptions=True)
                self._world.stats.idle_drivers.discard(self.number)

    async def _available(self, socket: ClientConnection, available: bool) -> None:
        await socket.send(json.dumps({"type": "availability", "available": available}))
        if available:
            self._world.stats.idle_drivers.add(self.number)
        else:
            self._world.stats.idle_drivers.discard(self.number)

    async def _ping(self, socket: ClientConnection) -> None:
        lat, lng = self._position
        await socket.send(json.dumps({"type": "ping", "lat": lat, "lng": lng}))

    def _move(self) -> None:
        step_km = SPEED_KMH * PING_SECONDS / 3600
        self._position = toward(self._position, self._heading_to, step_km)
        if self._position == self._heading_to:
            self._heading_to = self._world.box.somewhere(self._world.rng)

    async def _keep_pinging(self, socket: ClientConnection) -> None:
        while True:
            await asyncio.sleep(PING_SECONDS + self._world.rng.uniform(0, 0.5))
            self._move()
            await self._ping(socket)

    async def _answer(self, socket: ClientConnection) -> None:
        async for text in socket:
            frame = json.loads(text)
            if frame["type"] == "offer":
                await self._offered(socket, frame)
            elif frame["type"] == "assigned":
                await self._assigned(socket, frame["trip_id"], frame["version"])
            elif frame["type"] == "error" and frame["code"] != "trip_unavailable":
                # An offer accepted just as it lapsed or was withdrawn is ordinary; anything
                # else the socket refused is a bug in the simulator or in the stage.
                self._world.stats.errors.append(f"driver {self.number}: {frame}")

    async def _offered(self, socket: ClientConnection, offer: dict[str, Any]) -> None:
        self._world.stats.offers += 1
        if self._on_trip or self._world.rng.random() < self._world.decline_share:
            self._world.stats.declined += 1
            answer = "decline"
        else:
            answer = "accept"
        await asyncio.sleep(self._world.rng.uniform(0.05, 0.3))  # reading the screen
        await socket.send(json.dumps({"type": answer, "offer_id": offer["offer_id"]}))

    async def _assigned(self, socket: ClientConnection, trip_id: int, version: int) -> None:
        requested_at = self._world.requested_at.pop(trip_id, None)
        if requested_at is not None:
            self._world.stats.times_to_match.append(time.monotonic() - requested_at)
        self._on_trip = True
        self._world.stats.idle_drivers.discard(self.number)
        # Driven in the background: the socket keeps being read (and offers declined).
        task = asyncio.create_task(self._drive(socket, trip_id, version))
        self._driving.add(task)
        task.add_done_callback(self._driving.discard)

    async def _drive(self, socket: ClientConnection, trip_id: int, version: int) -> None:
        try:
            for step in ("arriving", "in_progress", "completed"):
                await asyncio.sleep(self._world.rng.uniform(0.5, 1.5))
                moved = await self._world.http.post(
                    f"/trips/{trip_id}/transitions",
                    json={"to": step, "version": version},
                    headers=self._headers,
                )
                if moved.status_code == 409:  # the rider cancelled meanwhile
                    break
                moved.raise_for_status()
                version = moved.json()["version"]
            else:
                self._world.stats.completed += 1
        finally:
            self._on_trip = False
            await self._available(socket, True)


class Rider:
    def __init__(self, world: World, headers: dict[str, str], number: int) -> None:
        self._world = world
        self._headers = headers
        self.number = number
        self.trip: dict[str, Any] | None = None

    async def run(self) -> None:
        while True:
            pickup, dropoff = (
                self._world.box.somewhere(self._world.rng),
                self._world.box.somewhere(self._world.rng),
            )
            response = await self._world.http.post(
                "/trips",
                json={
                    "pickup": {"lat": pickup[0], "lng": pickup[1]},
                    "dropoff": {"lat": dropoff[0], "lng": dropoff[1]},
                },
                headers=self._headers,
            )
            if response.status_code == 503:
                await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            response.raise_for_status()
            self.trip = response.json()
            self._world.requested_at[self.trip["id"]] = time.monotonic()
            self._world.stats.requested += 1
            await self._until_over()
            await asyncio.sleep(self._world.rng.uniform(0.5, 2.0))

    async def _until_over(self) -> None:
        while self.trip is not None:
            await asyncio.sleep(READ_TRIP_SECONDS)
            response = await self._world.http.get(
                f"/trips/{self.trip['id']}", headers=self._headers
            )
            response.raise_for_status()
            self.trip = response.json()
            if self.trip["status"] == "cancelled":
                self._world.requested_at.pop(self.trip["id"], None)
                self._world.stats.unmatched += self.trip["cancelled_by"] == "dispatch"
                self.trip = None
            elif self.trip["status"] == "completed":
                self.trip = None

    async def cancel(self) -> None:
        """At the end of the simulation: the trip not over is cancelled, not left behind."""
        if self.trip is None:
            return
        path = f"/trips/{self.trip['id']}"
        current = (await self._world.http.get(path, headers=self._headers)).json()
        if current["status"] not in ("completed", "cancelled"):
            await self._world.http.post(
                f"{path}/cancel",
                json={"version": current["version"], "reason": "the simulation ended"},
                headers=self._headers,
            )

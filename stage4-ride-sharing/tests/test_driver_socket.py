"""The driver's WebSocket over a real socket (uvicorn on loopback): the ticket, pings and
their checks, offers pushed and resumed, accepts, and bad input of every kind answered
with an error frame or a close code, never a crash."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from httpx import AsyncClient
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect

from rides.config import Settings
from rides.dispatch.offers import Offers
from rides.geo.index import GeoIndex
from rides.sockets import protocol
from rides.trips import history
from tests.conftest import make_settings
from tests.factories import PICKUP, north_of, requested_trip, signed_in, ticket, user_id
from tests.live import FRAME_SECONDS, closed_with, receive


@pytest.fixture
def server_settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(database_url, redis_url, heartbeat_timeout_seconds=1.5, offer_seconds=5.0)


@pytest.fixture
async def http(server: str) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(base_url=f"http://{server}") as client:
        yield client


@asynccontextmanager
async def driver_socket(server: str, issued: str | None = None) -> AsyncIterator[ClientConnection]:
    """A socket, signed in with `issued` by a first message if given."""
    async with connect(f"ws://{server}/drivers/socket", open_timeout=FRAME_SECONDS) as ws:
        if issued is not None:
            await ws.send(json.dumps({"type": "auth", "ticket": issued}))
            assert (await receive(ws))["type"] == "ready"
        yield ws


async def ping(ws: ClientConnection, point: dict[str, float]) -> None:
    await ws.send(json.dumps({"type": "ping", **point}))


async def new_driver(http: AsyncClient) -> tuple[int, str]:
    headers = await signed_in(http, "driver")
    return await user_id(http, headers), await ticket(http, headers)


async def off_the_map(geo: GeoIndex, driver_id: int) -> None:
    """Waits (boundedly) until the server has forgotten the driver's position."""
    began = time.monotonic()
    while await geo.last_seen(driver_id) is not None:
        assert time.monotonic() - began < FRAME_SECONDS, "still on the map"
        await asyncio.sleep(0.02)


def geo_of(redis_client: Redis, settings: Settings) -> GeoIndex:
    return GeoIndex(redis_client, city=settings.city, stale_after_seconds=30)


async def test_a_driver_signs_in_with_a_first_message(http: AsyncClient, server: str) -> None:
    driver_id, issued = await new_driver(http)
    async with connect(f"ws://{server}/drivers/socket") as ws:
        await ws.send(json.dumps({"type": "auth", "ticket": issued}))
        assert await receive(ws) == {"type": "ready", "driver_id": driver_id}


async def test_or_with_the_ticket_as_a_subprotocol(http: AsyncClient, server: str) -> None:
    driver_id, issued = await new_driver(http)
    async with connect(
        f"ws://{server}/drivers/socket",
        subprotocols=[protocol.SUBPROTOCOL, protocol.TICKET_PREFIX + issued],  # type: ignore[list-item]
    ) as ws:
        assert ws.subprotocol == protocol.SUBPROTOCOL
        assert await receive(ws) == {"type": "ready", "driver_id": driver_id}


@pytest.mark.parametrize(
    "first",
    [
        "not json",
        json.dumps({"type": "ping", "lat": 0, "lng": 0}),
        json.dumps({"type": "auth", "ticket": "not-a-jwt"}),
    ],
)
async def test_without_a_valid_ticket_first_the_socket_is_closed(server: str, first: str) -> None:
    async with driver_socket(server) as ws:
        await ws.send(first)
        assert await closed_with(ws) == protocol.UNAUTHENTICATED


async def test_a_riders_access_token_does_not_open_the_driver_socket(
    http: AsyncClient, server: str
) -> None:
    rider = await signed_in(http, "rider")
    access_token = rider["Authorization"].removeprefix("Bearer ")
    async with driver_socket(server) as ws:
        await ws.send(json.dumps({"type": "auth", "ticket": access_token}))
        assert await closed_with(ws) == protocol.UNAUTHENTICATED


async def test_a_drivers_access_token_is_not_a_ticket(http: AsyncClient, server: str) -> None:
    """An access token lives an hour and opens the HTTP API: it stays out of sockets."""
    driver = await signed_in(http, "driver")
    async with driver_socket(server) as ws:
        await ws.send(
            json.dumps({"type": "auth", "ticket": driver["Authorization"].removeprefix("Bearer ")})
        )
        assert await closed_with(ws) == protocol.UNAUTHENTICATED


async def test_a_riders_ticket_is_refused_as_such(http: AsyncClient, server: str) -> None:
    """A valid ticket, of an account in the other role: 4403, which tells a client wired to
    the wrong socket what is wrong, where 4401 would say its ticket is bad."""
    rider_ticket = await ticket(http, await signed_in(http, "rider"))
    async with driver_socket(server) as ws:
        await ws.send(json.dumps({"type": "auth", "ticket": rider_ticket}))
        assert await closed_with(ws) == protocol.FORBIDDEN


async def test_a_socket_that_never_signs_in_is_closed(server: str) -> None:
    async with driver_socket(server) as ws:
        assert await closed_with(ws) == protocol.UNAUTHENTICATED


async def test_pings_put_the_driver_on_the_map(
    http: AsyncClient, server: str, redis_client: Redis, server_settings: Settings
) -> None:
    driver_id, issued = await new_driver(http)
    geo = geo_of(redis_client, server_settings)
    async with driver_socket(server, issued) as ws:
        await ping(ws, PICKUP)
        await ws.send(json.dumps({"type": "availability", "available": True}))
        await ws.send(json.dumps({"type": "heartbeat"}))
        # Frames are handled in order: once this one is answered, the three above are done.
        await ws.send("{}")
        assert (await receive(ws))["code"] == "invalid_message"
        found = await geo.nearest(PICKUP["lat"], PICKUP["lng"], radii_km=[0.5], count=5)
        assert [candidate.driver_id for candidate in found] == [driver_id]
    await off_the_map(geo, driver_id)  # as soon as the server sees the socket close


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "invalid_message"),
        (json.dumps({"type": "ping", "lat": 91, "lng": 0}), "invalid_message"),
        (json.dumps({"type": "ping", "lat": 0, "lng": 180.5}), "invalid_message"),
        ('{"type": "ping", "lat": NaN, "lng": 0}', "invalid_message"),
        (json.dumps({"type": "ping", "lat": 86, "lng": 0}), "invalid_message"),
        (json.dumps({"type": "ping", "lat": True, "lng": 0}), "invalid_message"),
        (json.dumps({"type": "ping", "lat": "north", "lng": 0}), "invalid_message"),
        (json.dumps({"type": "teleport"}), "invalid_message"),
        (json.dumps([1, 2, 3]), "invalid_message"),
        (json.dumps({"type": "accept", "offer_id": "x" * 65}), "invalid_message"),
        (json.dumps({"type": "accept", "offer_id": "no-such-offer"}), "unknown_offer"),
        (json.dumps({"type": "auth", "ticket": "again"}), "already_authenticated"),
    ],
)
async def test_bad_frames_get_an_error_frame_and_the_socket_lives_on(
    http: AsyncClient, server: str, frame: str, code: str
) -> None:
    _, issued = await new_driver(http)
    async with driver_socket(server, issued) as ws:
        await ws.send(frame)
        error = await receive(ws)
        assert (error["type"], error["code"]) == ("error", code)
        await ws.send(json.dumps({"type": "accept", "offer_id": "still-here"}))
        assert (await receive(ws))["code"] == "unknown_offer"


async def test_a_binary_frame_gets_an_error_frame(http: AsyncClient, server: str) -> None:
    _, issued = await new_driver(http)
    async with driver_socket(server, issued) as ws:
        await ws.send(b"\x00\x01")
        assert (await receive(ws))["code"] == "text_only"


async def test_a_huge_frame_closes_the_socket(http: AsyncClient, server: str) -> None:
    _, issued = await new_driver(http)
    async with driver_socket(server, issued) as ws:
        await ws.send(json.dumps({"type": "heartbeat", "padding": "x" * 10_000}))
        assert await closed_with(ws) == protocol.MESSAGE_TOO_BIG


async def test_a_stream_of_bad_frames_closes_the_socket(http: AsyncClient, server: str) -> None:
    _, issued = await new_driver(http)
    async with driver_socket(server, issued) as ws:
        for _ in range(25):
            await ws.send("nonsense")
        assert await closed_with(ws) == protocol.POLICY_VIOLATION


async def test_a_jump_no_car_could_make_is_refused(
    http: AsyncClient, server: str, redis_client: Redis, server_settings: Settings
) -> None:
    driver_id, issued = await new_driver(http)
    async with driver_socket(server, issued) as ws:
        await ping(ws, PICKUP)
        await ping(ws, north_of(PICKUP, 50))  # 50 km in a moment
        assert (await receive(ws))["code"] == "implausible_position"
        last = await geo_of(redis_client, server_settings).last_seen(driver_id)
        assert last is not None
        assert abs(last[0] - PICKUP["lat"]) < 1e-4  # still where it was


async def test_another_drivers_offer_cannot_be_accepted(
    http: AsyncClient, server: str, redis_client: Redis, server_settings: Settings
) -> None:
    rider = await signed_in(http, "rider")
    trip = await requested_trip(http, rider)
    owner_id, _ = await new_driver(http)
    _, thief_ticket = await new_driver(http)
    offers = Offers(redis_client, offer_seconds=5)
    offer = await offers.make(trip["id"], owner_id, (PICKUP["lat"], PICKUP["lng"]))
    assert offer is not None
    async with driver_socket(server, thief_ticket) as ws:
        await ws.send(json.dumps({"type": "accept", "offer_id": offer.id}))
        assert (await receive(ws))["code"] == "unknown_offer"
    assert (await http.get(f"/trips/{trip['id']}", headers=rider)).json()["status"] == "requested"


async def test_an_offer_reaches_the_socket_and_accepting_it_assigns_the_trip(
    http: AsyncClient, server: str, redis_client: Redis
) -> None:
    rider = await signed_in(http, "rider")
    trip = await requested_trip(http, rider)
    driver_id, issued = await new_driver(http)
    offers = Offers(redis_client, offer_seconds=5)
    async with driver_socket(server, issued) as ws:
        offer = await offers.make(trip["id"], driver_id, (PICKUP["lat"], PICKUP["lng"]))
        assert offer is not None
        pushed = await receive(ws)
        assert (pushed["type"], pushed["offer_id"], pushed["trip_id"]) == (
            "offer",
            offer.id,
            trip["id"],
        )
        assert 0 < pushed["expires_in"] <= 5
        await ws.send(json.dumps({"type": "accept", "offer_id": offer.id}))
        assert await receive(ws) == {"type": "assigned", "trip_id": trip["id"], "version": 2}
        # Accepting again: the offer is spent.
        await ws.send(json.dumps({"type": "accept", "offer_id": offer.id}))
        assert (await receive(ws))["code"] == "unknown_offer"
    seen = (await http.get(f"/trips/{trip['id']}", headers=rider)).json()
    assert (seen["status"], seen["driver_id"]) == ("driver_assigned", driver_id)


async def handled(ws: ClientConnection) -> None:
    """Frames are handled in order: once this bad one is answered, those before are done."""
    await ws.send("{}")
    assert (await receive(ws))["code"] == "invalid_message"


async def test_the_fare_follows_the_pings_of_the_ride_and_only_those(
    http: AsyncClient, server: str, redis_client: Redis
) -> None:
    """The pings go to the trip's history in Redis from the accept on, and completing the
    trip writes those since the rider got on board to PostgreSQL and prices them."""
    rider = await signed_in(http, "rider")
    trip = await requested_trip(http, rider)
    driver_headers = await signed_in(http, "driver")
    driver_id = await user_id(http, driver_headers)
    offer = await Offers(redis_client, offer_seconds=5).make(
        trip["id"], driver_id, (PICKUP["lat"], PICKUP["lng"])
    )
    assert offer is not None
    path = f"/trips/{trip['id']}/transitions"
    async with driver_socket(server, await ticket(http, driver_headers)) as ws:
        assert (await receive(ws))["type"] == "offer"
        await ws.send(json.dumps({"type": "accept", "offer_id": offer.id}))
        assert (await receive(ws))["type"] == "assigned"
        # On the way to the pickup, 40 m at a time (plausible at any speed): not the ride.
        for km in (-0.12, -0.08, -0.04):
            await ping(ws, north_of(PICKUP, km))
        await handled(ws)
        version = 2
        for to in ("arriving", "in_progress"):
            moved = await http.post(
                path, json={"to": to, "version": version}, headers=driver_headers
            )
            assert moved.status_code == 200, moved.text
            version = moved.json()["version"]
        # The ride: 1 km north.
        for step in range(26):
            await ping(ws, north_of(PICKUP, step * 0.04))
        await handled(ws)
        done = await http.post(
            path, json={"to": "completed", "version": version}, headers=driver_headers
        )
    assert done.status_code == 200, done.text
    assert abs(done.json()["distance_km"] - 1.0) < 0.01
    # The trip is over: the driver's pings no longer go to it.
    assert await redis_client.get(history.driver_trip_key(driver_id)) is None


async def test_a_reconnecting_driver_gets_the_offer_made_while_away(
    http: AsyncClient, server: str, redis_client: Redis
) -> None:
    rider = await signed_in(http, "rider")
    trip = await requested_trip(http, rider)
    driver_id, issued = await new_driver(http)
    offers = Offers(redis_client, offer_seconds=5)
    offer = await offers.make(trip["id"], driver_id, (PICKUP["lat"], PICKUP["lng"]))
    assert offer is not None
    async with driver_socket(server, issued) as ws:
        pushed = await receive(ws)
        assert (pushed["type"], pushed["offer_id"]) == ("offer", offer.id)
        await ws.send(json.dumps({"type": "decline", "offer_id": offer.id}))
        assert await receive(ws) == {"type": "declined", "offer_id": offer.id}
    assert await offers.pending_for(driver_id) is None


async def test_a_silent_driver_is_closed_and_taken_off_the_map(
    http: AsyncClient, server: str, redis_client: Redis, server_settings: Settings
) -> None:
    driver_id, issued = await new_driver(http)
    geo = geo_of(redis_client, server_settings)
    async with driver_socket(server, issued) as ws:
        await ping(ws, PICKUP)
        await ws.send(json.dumps({"type": "availability", "available": True}))
        assert await closed_with(ws) == protocol.TIMED_OUT  # 1.5 s without a frame
    await off_the_map(geo, driver_id)
    found = await geo.nearest(PICKUP["lat"], PICKUP["lng"], radii_km=[5.0], count=5)
    assert found == []


async def test_an_old_socket_closing_leaves_a_reconnected_driver_on_the_map(
    http: AsyncClient, server: str, redis_client: Redis, server_settings: Settings
) -> None:
    """The driver's phone opened a new socket before the old one's close reached the
    server: the old socket's close must not take the driver off the map."""
    headers = await signed_in(http, "driver")
    driver_id = await user_id(http, headers)
    geo = geo_of(redis_client, server_settings)
    async with driver_socket(server, await ticket(http, headers)) as old:
        await ping(old, PICKUP)
        async with driver_socket(server, await ticket(http, headers)) as new:
            await ping(new, PICKUP)
            await new.send(json.dumps({"type": "availability", "available": True}))
            await handled(new)
            await old.close()
            # The old socket's close is handled in a moment; the new one lives on.
            await asyncio.sleep(0.3)
            await handled(new)
            found = await geo.nearest(PICKUP["lat"], PICKUP["lng"], radii_km=[0.5], count=5)
            assert [candidate.driver_id for candidate in found] == [driver_id]
        await off_the_map(geo, driver_id)  # the current socket's close does


async def test_an_offer_of_a_trip_cancelled_meanwhile_is_withdrawn_on_the_socket(
    http: AsyncClient, server: str, redis_client: Redis
) -> None:
    rider = await signed_in(http, "rider")
    trip = await requested_trip(http, rider)
    driver_id, issued = await new_driver(http)
    offers = Offers(redis_client, offer_seconds=5)
    async with driver_socket(server, issued) as ws:
        offer = await offers.make(trip["id"], driver_id, (PICKUP["lat"], PICKUP["lng"]))
        assert offer is not None
        assert (await receive(ws))["offer_id"] == offer.id
        body = {"version": 1, "reason": "found a taxi"}
        cancel = await http.post(f"/trips/{trip['id']}/cancel", json=body, headers=rider)
        assert cancel.status_code == 200, cancel.text
        assert await receive(ws) == {
            "type": "offer_withdrawn",
            "offer_id": offer.id,
            "trip_id": trip["id"],
        }
    # Free for another offer at once, not at the first one's deadline.
    assert await offers.make(trip["id"] + 1, driver_id, (PICKUP["lat"], PICKUP["lng"]))

"""The rider's WebSocket over a real socket (uvicorn on loopback): the ticket and the
role, the trip's state at every transition (a match, the driver's moves, a refusal by
dispatch, a cancellation with who and why), the driver's position at each ping, a
reconnect that reads what it missed, and bad input answered with an error frame or a close
code, never a crash."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import event, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect

from rides.config import Settings
from rides.dispatch.dispatcher import NO_DRIVER, Dispatcher
from rides.dispatch.offers import Offers
from rides.geo.index import GeoIndex
from rides.models import CancelledBy, Trip, TripStatus
from rides.sockets import protocol
from rides.streams import TripRequests
from rides.trips import updates
from roadmap_shared.testing.private_servers import free_port
from tests.conftest import make_settings
from tests.factories import PICKUP, north_of, requested_trip, signed_in, ticket, user_id
from tests.live import (
    FRAME_SECONDS,
    closed_with,
    following,
    handled,
    online_driver,
    receive,
    receive_type,
    signed_in_socket,
)

# A heartbeat reads the trip again at most this often.
REREAD_SECONDS = 0.3


@pytest.fixture
def server_settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(
        database_url, redis_url, offer_seconds=5.0, rider_reread_seconds=REREAD_SECONDS
    )


@pytest.fixture
async def http(server: str) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(base_url=f"http://{server}") as client:
        yield client


async def state(ws: ClientConnection) -> dict[str, Any]:
    """The trip in the next frame, which must be a state."""
    frame = await receive(ws)
    assert frame["type"] == "trip", frame
    trip: dict[str, Any] = frame["trip"]
    return trip


async def assigned_trip(
    http: AsyncClient, redis_client: Redis, driver_ws: ClientConnection, driver_id: int
) -> tuple[dict[str, str], dict[str, Any]]:
    """A rider and their trip, offered to the driver on `driver_ws` and accepted."""
    rider = await signed_in(http, "rider")
    trip = await requested_trip(http, rider)
    offers = Offers(redis_client, offer_seconds=5)
    offer = await offers.make(trip["id"], driver_id, (PICKUP["lat"], PICKUP["lng"]))
    assert offer is not None
    assert (await receive_type(driver_ws, "offer"))["offer_id"] == offer.id
    await driver_ws.send(json.dumps({"type": "accept", "offer_id": offer.id}))
    assert (await receive_type(driver_ws, "assigned"))["trip_id"] == trip["id"]
    return rider, trip


# --- signing in -------------------------------------------------------------------------


async def test_a_rider_signs_in_with_a_first_message(http: AsyncClient, server: str) -> None:
    rider = await signed_in(http, "rider")
    rider_id = await user_id(http, rider)
    async with connect(f"ws://{server}/riders/socket") as ws:
        await ws.send(json.dumps({"type": "auth", "ticket": await ticket(http, rider)}))
        assert await receive(ws) == {"type": "ready", "rider_id": rider_id}


async def test_or_with_the_ticket_as_a_subprotocol(http: AsyncClient, server: str) -> None:
    rider = await signed_in(http, "rider")
    issued = await ticket(http, rider)
    async with connect(
        f"ws://{server}/riders/socket",
        subprotocols=[protocol.SUBPROTOCOL, protocol.TICKET_PREFIX + issued],  # type: ignore[list-item]
    ) as ws:
        assert ws.subprotocol == protocol.SUBPROTOCOL
        assert await receive(ws) == {"type": "ready", "rider_id": await user_id(http, rider)}


async def test_a_drivers_ticket_does_not_open_the_rider_socket(
    http: AsyncClient, server: str
) -> None:
    driver_ticket = await ticket(http, await signed_in(http, "driver"))
    async with connect(f"ws://{server}/riders/socket", open_timeout=FRAME_SECONDS) as ws:
        await ws.send(json.dumps({"type": "auth", "ticket": driver_ticket}))
        assert await closed_with(ws) == protocol.FORBIDDEN


@pytest.mark.parametrize("first", ["not json", json.dumps({"type": "follow", "trip_id": 1})])
async def test_without_a_ticket_first_the_socket_is_closed(server: str, first: str) -> None:
    async with connect(f"ws://{server}/riders/socket", open_timeout=FRAME_SECONDS) as ws:
        await ws.send(first)
        assert await closed_with(ws) == protocol.UNAUTHENTICATED


async def test_a_riders_access_token_is_not_a_ticket(http: AsyncClient, server: str) -> None:
    rider = await signed_in(http, "rider")
    async with connect(f"ws://{server}/riders/socket", open_timeout=FRAME_SECONDS) as ws:
        access_token = rider["Authorization"].removeprefix("Bearer ")
        await ws.send(json.dumps({"type": "auth", "ticket": access_token}))
        assert await closed_with(ws) == protocol.UNAUTHENTICATED


# --- the trip, as it changes ------------------------------------------------------------


async def test_the_rider_hears_every_move_and_the_drivers_position_until_the_end(
    http: AsyncClient, server: str, redis_client: Redis
) -> None:
    driver = await signed_in(http, "driver")
    driver_id = await user_id(http, driver)
    async with online_driver(server, http, driver) as driver_ws:
        rider, trip = await assigned_trip(http, redis_client, driver_ws, driver_id)
        async with following(server, http, rider, trip["id"]) as rider_ws:
            now = await state(rider_ws)  # assigned before the rider followed: read first
            assert (now["status"], now["version"], now["driver_id"]) == (
                "driver_assigned",
                2,
                driver_id,
            )
            route = [north_of(PICKUP, 0.01 * step) for step in range(1, 4)]
            for point in route[:2]:
                await driver_ws.send(json.dumps({"type": "ping", **point}))
                position = await receive(rider_ws)
                assert position["type"] == "driver_position"
                assert (position["lat"], position["lng"]) == (point["lat"], point["lng"])

            version = now["version"]
            for move in ("arriving", "in_progress", "completed"):
                body = {"to": move, "version": version}
                moved = await http.post(
                    f"/trips/{trip['id']}/transitions", json=body, headers=driver
                )
                assert moved.status_code == 200, moved.text
                heard = await state(rider_ws)
                assert (heard["status"], heard["version"]) == (move, version + 1)
                version += 1
            assert heard["fare_cents"] is not None

            # The trip is over: the driver's pings are the driver's own again.
            await driver_ws.send(json.dumps({"type": "ping", **route[2]}))
            await handled(driver_ws)
            await rider_ws.send(json.dumps({"type": "heartbeat", "extra": 1}))
            assert (await receive(rider_ws))["type"] == "error"  # and no position before it


async def test_no_driver_found_is_told_to_the_rider_by_push(
    *,
    http: AsyncClient,
    server: str,
    server_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    redis_client: Redis,
    geo: GeoIndex,
    offers: Offers,
    trip_requests: TripRequests,
) -> None:
    rider = await signed_in(http, "rider")
    trip = await requested_trip(http, rider)
    dispatcher = Dispatcher(
        settings=server_settings,
        sessions=sessions,
        redis=redis_client,
        geo=geo,
        offers=offers,
        queue=trip_requests,
        name="d1",
    )
    async with following(server, http, rider, trip["id"]) as ws:
        assert (await state(ws))["status"] == "requested"
        await dispatcher.step()  # nobody near: the trip is cancelled at once
        refused = await state(ws)
    assert (refused["status"], refused["version"]) == ("cancelled", 2)
    assert (refused["cancelled_by"], refused["cancel_reason"]) == ("dispatch", NO_DRIVER)


@pytest.mark.parametrize("by", ["rider", "driver"])
async def test_a_cancellation_says_who_and_why(
    http: AsyncClient, server: str, redis_client: Redis, by: str
) -> None:
    driver = await signed_in(http, "driver")
    driver_id = await user_id(http, driver)
    async with online_driver(server, http, driver) as driver_ws:
        rider, trip = await assigned_trip(http, redis_client, driver_ws, driver_id)
        async with following(server, http, rider, trip["id"]) as ws:
            assert (await state(ws))["version"] == 2
            body = {"version": 2, "reason": f"the {by} had to"}
            cancelled = await http.post(
                f"/trips/{trip['id']}/cancel", json=body, headers=rider if by == "rider" else driver
            )
            assert cancelled.status_code == 200, cancelled.text
            heard = await state(ws)
    assert (heard["status"], heard["cancelled_by"], heard["cancel_reason"]) == (
        "cancelled",
        by,
        f"the {by} had to",
    )


async def test_a_reconnecting_rider_reads_what_changed_while_away(
    http: AsyncClient, server: str
) -> None:
    rider = await signed_in(http, "rider")
    trip = await requested_trip(http, rider)
    async with following(server, http, rider, trip["id"]) as ws:
        assert (await state(ws))["status"] == "requested"
    body = {"version": 1, "reason": "from another device"}
    assert (await http.post(f"/trips/{trip['id']}/cancel", json=body, headers=rider)).is_success
    async with following(server, http, rider, trip["id"]) as ws:
        heard = await state(ws)
    assert (heard["status"], heard["version"]) == ("cancelled", 2)


async def test_each_version_is_sent_once(http: AsyncClient, server: str) -> None:
    """A retried cancel is answered the same and published again: the socket drops it."""
    rider = await signed_in(http, "rider")
    trip = await requested_trip(http, rider)
    async with following(server, http, rider, trip["id"]) as ws:
        assert (await state(ws))["version"] == 1
        body = {"version": 1, "reason": "twice"}
        for _ in range(2):
            response = await http.post(f"/trips/{trip['id']}/cancel", json=body, headers=rider)
            assert response.status_code == 200, response.text
        assert (await state(ws))["version"] == 2
        await handled(ws)  # the next frame is the answer to this, not version 2 again


async def test_a_state_whose_publish_was_lost_arrives_with_the_next_heartbeat(
    http: AsyncClient, server: str, committed_session: AsyncSession
) -> None:
    """Committed, and never published (Redis was unreachable just after the commit)."""
    rider = await signed_in(http, "rider")
    trip = await requested_trip(http, rider)
    async with following(server, http, rider, trip["id"]) as ws:
        assert (await state(ws))["version"] == 1
        await committed_session.execute(
            update(Trip)
            .where(Trip.id == trip["id"])
            .values(
                status=TripStatus.CANCELLED,
                version=2,
                cancelled_by=CancelledBy.DISPATCH,
                cancel_reason=NO_DRIVER,
            )
        )
        await committed_session.commit()
        await asyncio.sleep(REREAD_SECONDS)  # since the follow's read
        await ws.send(json.dumps({"type": "heartbeat"}))
        heard = await state(ws)
        assert (heard["status"], heard["version"]) == ("cancelled", 2)
        await ws.send(json.dumps({"type": "heartbeat"}))
        await handled(ws)  # sent once: the next heartbeat has nothing new


async def test_heartbeats_in_a_loop_read_the_trip_at_most_once_a_while(
    http: AsyncClient, server: str
) -> None:
    """Each reread is a PostgreSQL query: a client sending heartbeats as fast as it can
    must not turn them into as many queries."""
    rider = await signed_in(http, "rider")
    trip = await requested_trip(http, rider)
    trip_reads: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "FROM trips" in statement:
            trip_reads.append(statement)

    async with following(server, http, rider, trip["id"]) as ws:
        assert (await state(ws))["version"] == 1
        await asyncio.sleep(REREAD_SECONDS)  # a reread is due
        # The server runs in a thread of this process: its engine's statements are seen.
        event.listen(Engine, "before_cursor_execute", record)
        try:
            for _ in range(30):
                await ws.send(json.dumps({"type": "heartbeat"}))
            await handled(ws)
        finally:
            event.remove(Engine, "before_cursor_execute", record)
    assert len(trip_reads) == 1


async def test_a_publish_that_fails_is_let_go() -> None:
    """Nothing listens on that port: the change it announces is committed and stands (the
    accept, the dispatcher's refusal), and the rider's next heartbeat reads it."""
    unreachable = Redis(port=free_port(), socket_connect_timeout=0.5)
    try:
        await updates.publish_position(unreachable, 1, PICKUP["lat"], PICKUP["lng"])
    finally:
        await unreachable.aclose()


async def test_a_position_published_as_the_trip_ended_is_not_sent(
    http: AsyncClient, server: str, redis_client: Redis
) -> None:
    """A driver's ping handled on one instance while the trip is cancelled on another: its
    position may be published after the cancellation, and is dropped."""
    rider = await signed_in(http, "rider")
    trip = await requested_trip(http, rider)
    async with following(server, http, rider, trip["id"]) as ws:
        assert (await state(ws))["version"] == 1
        body = {"version": 1, "reason": "done"}
        assert (await http.post(f"/trips/{trip['id']}/cancel", json=body, headers=rider)).is_success
        assert (await state(ws))["status"] == "cancelled"
        await updates.publish_position(redis_client, trip["id"], PICKUP["lat"], PICKUP["lng"])
        await handled(ws)


@pytest.fixture
async def slow_commits(db_engine: AsyncEngine) -> AsyncIterator[None]:
    """Every commit that changed a trip takes a second longer (a deferred trigger sleeps
    at commit time), and whatever reads the trip meanwhile reads it as it was: a state
    published before its commit would reach the rider a second before it is true."""
    async with db_engine.begin() as connection:
        await connection.execute(
            text(
                "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$"
            )
        )
        await connection.execute(
            text(
                "CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON trips "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()"
            )
        )
    try:
        yield
    finally:
        async with db_engine.begin() as connection:
            await connection.execute(text("DROP TRIGGER slow_commit ON trips"))
            await connection.execute(text("DROP FUNCTION slow_commit()"))


async def committed_version(sessions: async_sessionmaker[AsyncSession], trip_id: int) -> int:
    async with sessions() as session:
        version = await session.scalar(select(Trip.version).where(Trip.id == trip_id))
    assert version is not None
    return version


@pytest.mark.usefixtures("slow_commits")
async def test_a_state_is_pushed_only_once_committed_over_http(
    http: AsyncClient, server: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    rider = await signed_in(http, "rider")
    trip = await requested_trip(http, rider)
    async with following(server, http, rider, trip["id"]) as ws:
        assert (await state(ws))["version"] == 1
        body = {"version": 1, "reason": "in a hurry"}
        cancelling = asyncio.create_task(
            http.post(f"/trips/{trip['id']}/cancel", json=body, headers=rider)
        )
        assert (await state(ws))["version"] == 2
        assert await committed_version(sessions, trip["id"]) == 2
        assert (await cancelling).status_code == 200


@pytest.mark.usefixtures("slow_commits")
async def test_a_state_is_pushed_only_once_committed_on_the_drivers_socket(
    http: AsyncClient, server: str, redis_client: Redis, sessions: async_sessionmaker[AsyncSession]
) -> None:
    driver = await signed_in(http, "driver")
    driver_id = await user_id(http, driver)
    rider = await signed_in(http, "rider")
    trip = await requested_trip(http, rider)
    async with (
        online_driver(server, http, driver) as driver_ws,
        following(server, http, rider, trip["id"]) as rider_ws,
    ):
        offer = await Offers(redis_client, offer_seconds=5).make(
            trip["id"], driver_id, (PICKUP["lat"], PICKUP["lng"])
        )
        assert offer is not None
        assert (await state(rider_ws))["version"] == 1
        assert (await receive_type(driver_ws, "offer"))["offer_id"] == offer.id
        await driver_ws.send(json.dumps({"type": "accept", "offer_id": offer.id}))
        assert (await state(rider_ws))["status"] == "driver_assigned"
        assert await committed_version(sessions, trip["id"]) == 2


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "invalid_message"),
        (json.dumps({"type": "teleport"}), "invalid_message"),
        (json.dumps([1, 2, 3]), "invalid_message"),
        (json.dumps({"type": "follow"}), "invalid_message"),
        (json.dumps({"type": "follow", "trip_id": True}), "invalid_message"),
        (json.dumps({"type": "follow", "trip_id": "1"}), "invalid_message"),
        (json.dumps({"type": "follow", "trip_id": 0}), "invalid_message"),
        (json.dumps({"type": "follow", "trip_id": 2**63}), "invalid_message"),
        (json.dumps({"type": "follow", "trip_id": 2**63 - 1}), "unknown_trip"),
        (json.dumps({"type": "auth", "ticket": "again"}), "already_authenticated"),
    ],
)
async def test_bad_frames_get_an_error_frame_and_the_socket_lives_on(
    http: AsyncClient, server: str, frame: str, code: str
) -> None:
    rider = await signed_in(http, "rider")
    trip = await requested_trip(http, rider)
    async with signed_in_socket(server, "/riders/socket", http, rider) as ws:
        await ws.send(frame)
        error = await receive(ws)
        assert (error["type"], error["code"]) == ("error", code)
        await ws.send(json.dumps({"type": "follow", "trip_id": trip["id"]}))
        assert (await state(ws))["id"] == trip["id"]


async def test_another_riders_trip_is_no_such_trip(http: AsyncClient, server: str) -> None:
    owner = await signed_in(http, "rider")
    theirs = await requested_trip(http, owner)
    snoop = await signed_in(http, "rider")
    async with following(server, http, snoop, theirs["id"]) as ws:
        assert (await receive(ws))["code"] == "unknown_trip"
        # Nothing of that trip reaches the snoop afterwards either.
        body = {"version": 1, "reason": "private"}
        cancel = await http.post(f"/trips/{theirs['id']}/cancel", json=body, headers=owner)
        assert cancel.status_code == 200
        await handled(ws)


async def test_a_binary_frame_gets_an_error_frame(http: AsyncClient, server: str) -> None:
    rider = await signed_in(http, "rider")
    async with signed_in_socket(server, "/riders/socket", http, rider) as ws:
        await ws.send(b"\x00\x01")
        assert (await receive(ws))["code"] == "text_only"


async def test_a_huge_frame_closes_the_socket(http: AsyncClient, server: str) -> None:
    rider = await signed_in(http, "rider")
    async with signed_in_socket(server, "/riders/socket", http, rider) as ws:
        await ws.send(json.dumps({"type": "heartbeat", "padding": "x" * 10_000}))
        assert await closed_with(ws) == protocol.MESSAGE_TOO_BIG


async def test_a_stream_of_bad_frames_closes_the_socket(http: AsyncClient, server: str) -> None:
    rider = await signed_in(http, "rider")
    async with signed_in_socket(server, "/riders/socket", http, rider) as ws:
        for _ in range(25):
            await ws.send(json.dumps({"type": "follow", "trip_id": 999_999}))
        assert await closed_with(ws) == protocol.POLICY_VIOLATION

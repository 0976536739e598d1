"""End to end across two app instances, over real HTTP and real WebSockets, with a
dispatcher running apart: whatever instance holds a socket, what concerns it reaches it
through Redis pub/sub. The driver's offer crosses over from a trip requested on the other
instance; the rider's socket hears the trip's states and the driver's position, both
produced on the instance holding the driver's socket.
(test_load_balancer.py puts nginx in front of the two, so that they share one address.)"""

import json

import pytest
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rides.config import Settings
from rides.dispatch.dispatcher import Dispatcher
from rides.dispatch.offers import Offers
from rides.geo.index import GeoIndex
from rides.streams import TripRequests
from tests.factories import DROPOFF, PICKUP, north_of, requested_trip, signed_in, user_id
from tests.live import dispatching, following, online_driver, receive, receive_type


@pytest.fixture
def dispatcher(
    *,
    server_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    redis_client: Redis,
    geo: GeoIndex,
    offers: Offers,
    trip_requests: TripRequests,
) -> Dispatcher:
    return Dispatcher(
        settings=server_settings,
        sessions=sessions,
        redis=redis_client,
        geo=geo,
        offers=offers,
        queue=trip_requests,
        name="apart",
    )


async def test_an_offer_made_for_a_trip_requested_on_b_reaches_a_driver_on_a(
    server: str, instance_b: str, dispatcher: Dispatcher
) -> None:
    async with (
        AsyncClient(base_url=f"http://{server}") as on_a,
        AsyncClient(base_url=f"http://{instance_b}") as on_b,
    ):
        driver = await signed_in(on_a, "driver")
        driver_id = await user_id(on_a, driver)
        async with online_driver(server, on_a, driver) as ws:
            rider = await signed_in(on_b, "rider")
            response = await on_b.post(
                "/trips", json={"pickup": PICKUP, "dropoff": DROPOFF}, headers=rider
            )
            assert response.status_code == 201, response.text
            trip_id = response.json()["id"]

            async with dispatching(dispatcher):
                offer = await receive(ws)
                assert (offer["type"], offer["trip_id"]) == ("offer", trip_id)
                await ws.send(json.dumps({"type": "accept", "offer_id": offer["offer_id"]}))
                assert (await receive(ws))["type"] == "assigned"

        seen = (await on_b.get(f"/trips/{trip_id}", headers=rider)).json()
        assert (seen["status"], seen["driver_id"]) == ("driver_assigned", driver_id)


async def test_a_riders_socket_on_a_hears_the_trip_and_the_driver_on_b(
    server: str, instance_b: str, dispatcher: Dispatcher
) -> None:
    async with (
        AsyncClient(base_url=f"http://{server}") as on_a,
        AsyncClient(base_url=f"http://{instance_b}") as on_b,
    ):
        driver = await signed_in(on_b, "driver")
        driver_id = await user_id(on_b, driver)
        rider = await signed_in(on_a, "rider")
        trip = await requested_trip(on_a, rider)
        async with (
            online_driver(instance_b, on_b, driver) as driver_ws,
            following(server, on_a, rider, trip["id"]) as rider_ws,
        ):
            assert (await receive(rider_ws))["trip"]["status"] == "requested"
            async with dispatching(dispatcher):
                offer = await receive_type(driver_ws, "offer")
                await driver_ws.send(json.dumps({"type": "accept", "offer_id": offer["offer_id"]}))
                assigned = (await receive(rider_ws))["trip"]
                assert (assigned["status"], assigned["driver_id"]) == (
                    "driver_assigned",
                    driver_id,
                )

            on_the_way = north_of(PICKUP, 0.01)
            await driver_ws.send(json.dumps({"type": "ping", **on_the_way}))
            position = await receive(rider_ws)
            assert (position["type"], position["trip_id"]) == ("driver_position", trip["id"])
            assert (position["lat"], position["lng"]) == (on_the_way["lat"], on_the_way["lng"])

            move = {"to": "arriving", "version": assigned["version"]}
            moved = await on_b.post(f"/trips/{trip['id']}/transitions", json=move, headers=driver)
            assert moved.status_code == 200, moved.text
            arriving = (await receive(rider_ws))["trip"]
            assert (arriving["status"], arriving["version"]) == ("arriving", 3)

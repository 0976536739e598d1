"""End to end across two app instances, over real HTTP and a real WebSocket: the driver's
socket is held by instance A, the rider talks to instance B, a dispatcher runs apart, and
the offer still reaches the driver (Redis pub/sub), whose accept assigns the trip once.
(test_load_balancer.py puts nginx in front of the two, so that they share one address.)"""

import asyncio
import json

from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import connect

from rides.config import Settings
from rides.dispatch.dispatcher import Dispatcher
from rides.dispatch.offers import Offers
from rides.geo.index import GeoIndex
from rides.streams import TripRequests
from tests.factories import DROPOFF, PICKUP, signed_in, ticket, user_id
from tests.test_driver_socket import FRAME_SECONDS, receive


async def test_an_offer_made_for_a_trip_requested_on_b_reaches_a_driver_on_a(
    *,
    server: str,
    instance_b: str,
    server_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    redis_client: Redis,
    geo: GeoIndex,
    offers: Offers,
    trip_requests: TripRequests,
) -> None:
    dispatcher = Dispatcher(
        settings=server_settings,
        sessions=sessions,
        redis=redis_client,
        geo=geo,
        offers=offers,
        queue=trip_requests,
        name="apart",
    )
    async with (
        AsyncClient(base_url=f"http://{server}") as on_a,
        AsyncClient(base_url=f"http://{instance_b}") as on_b,
    ):
        driver = await signed_in(on_a, "driver")
        driver_id = await user_id(on_a, driver)
        async with connect(f"ws://{server}/drivers/socket", open_timeout=FRAME_SECONDS) as ws:
            await ws.send(json.dumps({"type": "auth", "ticket": await ticket(on_a, driver)}))
            assert (await receive(ws))["type"] == "ready"
            await ws.send(json.dumps({"type": "ping", **PICKUP}))
            await ws.send(json.dumps({"type": "availability", "available": True}))
            await ws.send("{}")  # answered once the two frames above are handled
            assert (await receive(ws))["type"] == "error"

            rider = await signed_in(on_b, "rider")
            response = await on_b.post(
                "/trips", json={"pickup": PICKUP, "dropoff": DROPOFF}, headers=rider
            )
            assert response.status_code == 201, response.text
            trip_id = response.json()["id"]

            stop = asyncio.Event()
            dispatching = asyncio.create_task(dispatcher.run(stop))
            try:
                offer = await receive(ws)
                assert (offer["type"], offer["trip_id"]) == ("offer", trip_id)
                await ws.send(json.dumps({"type": "accept", "offer_id": offer["offer_id"]}))
                assert (await receive(ws))["type"] == "assigned"
            finally:
                stop.set()
                await asyncio.wait_for(dispatching, FRAME_SECONDS)

        seen = (await on_b.get(f"/trips/{trip_id}", headers=rider)).json()
        assert (seen["status"], seen["driver_id"]) == ("driver_assigned", driver_id)

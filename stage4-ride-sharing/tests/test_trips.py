"""The rider's API and the trip's rules: quote, request, cancel, the driver's moves, and who
may see or touch which trip."""

from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from rides.dispatch.offers import Offers, offered_key
from rides.main import create_app
from rides.trips import repository
from roadmap_shared.database import get_session
from roadmap_shared.testing.private_servers import free_port
from tests.conftest import make_settings
from tests.factories import DROPOFF, PICKUP, requested_trip, signed_in, user_id


async def assigned_trip(
    client: AsyncClient, db_session: AsyncSession
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """A requested trip given to a driver as an accepted offer gives it; (trip, rider, driver)."""
    rider, driver = await signed_in(client, "rider"), await signed_in(client, "driver")
    trip = await requested_trip(client, rider)
    assigned = await repository.assign(db_session, trip["id"], await user_id(client, driver))
    assert assigned is not None
    await db_session.commit()
    return (await client.get(f"/trips/{trip['id']}", headers=rider)).json(), rider, driver


async def test_a_quote_estimates_distance_duration_and_fare(client: AsyncClient) -> None:
    rider = await signed_in(client)
    response = await client.post(
        "/trips/quote", json={"pickup": PICKUP, "dropoff": DROPOFF}, headers=rider
    )
    assert response.status_code == 200, response.text
    quote = response.json()
    assert 3 < quote["distance_km"] < 6  # 4.6 km as the crow flies, times the road factor
    assert quote["duration_minutes"] > 0
    assert quote["surge"] == 1.0
    assert quote["fare_cents"] > 250
    assert quote["cell"].startswith("88")  # an H3 cell at resolution 8


async def test_demand_without_supply_raises_the_surge(client: AsyncClient) -> None:
    quotes = []
    for _ in range(3):
        rider = await signed_in(client)
        await requested_trip(client, rider)
        response = await client.post(
            "/trips/quote", json={"pickup": PICKUP, "dropoff": DROPOFF}, headers=rider
        )
        quotes.append(response.json()["surge"])
    assert quotes == sorted(quotes)
    assert quotes[-1] > 1.0


@pytest.mark.parametrize("path", ["/trips/quote", "/trips"])
async def test_impossible_coordinates_are_422(client: AsyncClient, path: str) -> None:
    rider = await signed_in(client)
    for pickup in [
        {"lat": 91, "lng": 0},
        {"lat": 0, "lng": -181},
        {"lat": "north", "lng": 0},
        {"lat": False, "lng": 0},  # not the number 0
        {"lat": 86, "lng": 0},  # beyond what Redis GEO can index
        {"lat": 85.0511, "lng": 0},  # within it, but not the centre of its H3 cell
    ]:
        response = await client.post(
            path, json={"pickup": pickup, "dropoff": DROPOFF}, headers=rider
        )
        assert response.status_code == 422, pickup


async def test_whole_numbers_are_coordinates_too(client: AsyncClient) -> None:
    rider = await signed_in(client)
    response = await client.post(
        "/trips/quote", json={"pickup": {"lat": 48, "lng": 2}, "dropoff": DROPOFF}, headers=rider
    )
    assert response.status_code == 200, response.text


async def test_a_version_beyond_the_column_is_422(client: AsyncClient) -> None:
    rider = await signed_in(client)
    trip = await requested_trip(client, rider)
    response = await client.post(
        f"/trips/{trip['id']}/cancel", json={"version": 2**31, "reason": "x"}, headers=rider
    )
    assert response.status_code == 422, response.text


async def test_the_quote_route_allows_post_alone(client: AsyncClient) -> None:
    """`/trips/quote` is not a trip id: GET on it is not allowed, rather than a 422."""
    response = await client.get("/trips/quote")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_a_requested_trip_waits_for_a_driver(client: AsyncClient) -> None:
    rider = await signed_in(client)
    trip = await requested_trip(client, rider)
    assert trip["status"] == "requested"
    assert trip["driver_id"] is None
    assert trip["version"] == 1


async def test_a_rider_has_one_trip_at_a_time(client: AsyncClient) -> None:
    rider = await signed_in(client)
    await requested_trip(client, rider)
    again = await client.post("/trips", json={"pickup": PICKUP, "dropoff": DROPOFF}, headers=rider)
    assert again.status_code == 409


async def test_a_driver_cannot_request_or_quote(client: AsyncClient) -> None:
    driver = await signed_in(client, "driver")
    body = {"pickup": PICKUP, "dropoff": DROPOFF}
    assert (await client.post("/trips", json=body, headers=driver)).status_code == 403
    assert (await client.post("/trips/quote", json=body, headers=driver)).status_code == 403
    assert (await client.post("/trips", json=body)).status_code == 401


async def test_another_riders_trip_is_404(client: AsyncClient) -> None:
    trip = await requested_trip(client, await signed_in(client))
    stranger = await signed_in(client)
    driver = await signed_in(client, "driver")
    for headers in (stranger, driver):
        assert (await client.get(f"/trips/{trip['id']}", headers=headers)).status_code == 404
        cancel = await client.post(
            f"/trips/{trip['id']}/cancel", json={"version": 1, "reason": "x"}, headers=headers
        )
        assert cancel.status_code == 404


async def test_a_cancellation_says_who_and_why_and_frees_the_rider(client: AsyncClient) -> None:
    rider = await signed_in(client)
    trip = await requested_trip(client, rider)
    response = await client.post(
        f"/trips/{trip['id']}/cancel",
        json={"version": 1, "reason": "changed my mind"},
        headers=rider,
    )
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert (cancelled["status"], cancelled["cancelled_by"]) == ("cancelled", "rider")
    assert cancelled["cancel_reason"] == "changed my mind"
    assert cancelled["version"] == 2
    await requested_trip(client, rider)  # a new trip is allowed at once


async def test_a_repeated_cancellation_answers_the_same(client: AsyncClient) -> None:
    rider = await signed_in(client)
    trip = await requested_trip(client, rider)
    path, body = f"/trips/{trip['id']}/cancel", {"version": 1, "reason": "late"}
    first = await client.post(path, json=body, headers=rider)
    second = await client.post(path, json=body, headers=rider)
    assert first.status_code == second.status_code == 200
    assert first.json()["version"] == second.json()["version"] == 2


async def test_a_move_from_a_stale_version_is_409(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    """The rider read version 1; the driver accepted since (version 2)."""
    trip, rider, _ = await assigned_trip(client, db_session)
    assert trip["version"] == 2
    stale = await client.post(
        f"/trips/{trip['id']}/cancel", json={"version": 1, "reason": "x"}, headers=rider
    )
    assert stale.status_code == 409
    fresh = await client.post(
        f"/trips/{trip['id']}/cancel", json={"version": 2, "reason": "x"}, headers=rider
    )
    assert fresh.status_code == 200


async def test_the_driver_moves_the_trip_to_its_end_and_the_fare_follows_the_pings(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    trip, rider, driver = await assigned_trip(client, db_session)
    path = f"/trips/{trip['id']}/transitions"
    version = trip["version"]
    for to in ("arriving", "in_progress"):
        response = await client.post(path, json={"to": to, "version": version}, headers=driver)
        assert response.status_code == 200, response.text
        version = response.json()["version"]
    # The ride went north 1 km, then back: 2 km travelled, whatever the straight line says.
    for point in [PICKUP, {"lat": PICKUP["lat"] + 1 / 111.2, "lng": PICKUP["lng"]}, PICKUP]:
        await repository.add_ping(db_session, trip["id"], point["lat"], point["lng"])
    await db_session.commit()
    done = await client.post(path, json={"to": "completed", "version": version}, headers=driver)
    assert done.status_code == 200, done.text
    completed = done.json()
    assert completed["status"] == "completed"
    assert abs(completed["distance_km"] - 2.0) < 0.01
    assert completed["fare_cents"] >= 250 + 2 * 120
    # Completed is final: a rider in the car cannot cancel, nothing moves it on.
    cancel = await client.post(
        f"/trips/{trip['id']}/cancel",
        json={"version": completed["version"], "reason": "x"},
        headers=rider,
    )
    assert cancel.status_code == 409


async def test_steps_cannot_be_skipped_and_riders_cannot_drive(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    trip, rider, driver = await assigned_trip(client, db_session)
    path = f"/trips/{trip['id']}/transitions"
    skip = await client.post(path, json={"to": "completed", "version": 2}, headers=driver)
    assert skip.status_code == 409
    by_rider = await client.post(path, json={"to": "arriving", "version": 2}, headers=rider)
    assert by_rider.status_code == 403
    other = await signed_in(client, "driver")
    by_other = await client.post(path, json={"to": "arriving", "version": 2}, headers=other)
    assert by_other.status_code == 404


async def test_a_repeated_move_answers_the_same(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    trip, _, driver = await assigned_trip(client, db_session)
    path, body = f"/trips/{trip['id']}/transitions", {"to": "arriving", "version": 2}
    first = await client.post(path, json=body, headers=driver)
    second = await client.post(path, json=body, headers=driver)
    assert first.status_code == second.status_code == 200
    assert first.json()["version"] == second.json()["version"] == 3


async def test_without_redis_a_quote_is_503_not_a_wrong_price(
    database_url: str, db_session: AsyncSession
) -> None:
    """Nothing listens on the port: surge cannot be measured, so no price is given."""
    down = make_settings(database_url, f"redis://127.0.0.1:{free_port()}/0")
    app = create_app(down)
    app.dependency_overrides[get_session] = lambda: db_session
    async with (
        LifespanManager(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        rider = await signed_in(client)
        response = await client.post(
            "/trips/quote", json={"pickup": PICKUP, "dropoff": DROPOFF}, headers=rider
        )
    assert response.status_code == 503
    assert response.headers["Retry-After"]


async def test_cancelling_a_trip_withdraws_its_offer_from_the_driver(
    client: AsyncClient, offers: Offers, redis_client: Redis
) -> None:
    """Left there, the offer would keep the driver from any other until its deadline, and
    answer an accept with `trip_unavailable`."""
    rider = await signed_in(client)
    trip = await requested_trip(client, rider)
    offer = await offers.make(trip["id"], 7, (PICKUP["lat"], PICKUP["lng"]))
    assert offer is not None
    response = await client.post(
        f"/trips/{trip['id']}/cancel", json={"version": 1, "reason": "found a taxi"}, headers=rider
    )
    assert response.status_code == 200, response.text
    assert await offers.get(offer.id) is None
    assert await offers.pending_for(7) is None
    assert await redis_client.exists(offered_key(trip["id"])) == 0
    # The dispatcher waiting for the driver's answer hears at once.
    assert await offers.wait_for_answer(offer) == "declined"

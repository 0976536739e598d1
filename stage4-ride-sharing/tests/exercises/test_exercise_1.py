"""Exercise 1 (easy): a trip history.
`make exercise STAGE=stage4-ride-sharing N=1`"""

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from rides.trips import repository
from roadmap_shared.pagination import MAX_PAGE_SIZE
from tests.factories import requested_trip, signed_in, user_id

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 1: GET /trips lists the caller's trips (as rider or driver), newest first, "
    "with the shared pagination, roadmap_shared.pagination (see the README)"
)


async def requested_then_cancelled(client: AsyncClient, rider: dict[str, str]) -> int:
    trip = await requested_trip(client, rider)
    cancelled = await client.post(
        f"/trips/{trip['id']}/cancel", json={"version": 1, "reason": "testing"}, headers=rider
    )
    assert cancelled.status_code == 200, cancelled.text
    trip_id: int = trip["id"]
    return trip_id


async def test_a_rider_lists_their_own_trips_newest_first(client: AsyncClient) -> None:
    rider, someone_else = await signed_in(client), await signed_in(client)
    mine = [await requested_then_cancelled(client, rider) for _ in range(3)]
    await requested_then_cancelled(client, someone_else)

    response = await client.get("/trips", headers=rider)
    assert response.status_code == 200, f"{TODO}: {response.status_code} {response.text}"
    page = response.json()
    assert [trip["id"] for trip in page["items"]] == mine[::-1], TODO
    assert page["total"] == 3, TODO
    assert page["items"][0]["status"] == "cancelled", TODO
    assert "no-store" in response.headers.get("cache-control", ""), (
        f"{TODO}: a trip history is personal data"
    )


async def test_the_history_comes_in_pages(client: AsyncClient) -> None:
    rider = await signed_in(client)
    mine = [await requested_then_cancelled(client, rider) for _ in range(3)]

    second = await client.get("/trips", params={"page": 2, "size": 2}, headers=rider)
    assert second.status_code == 200, f"{TODO}: {second.status_code} {second.text}"
    assert [trip["id"] for trip in second.json()["items"]] == [mine[0]], TODO
    assert (second.json()["total"], second.json()["pages"]) == (3, 2), TODO
    too_large = await client.get("/trips", params={"size": MAX_PAGE_SIZE + 1}, headers=rider)
    assert too_large.status_code == 422, f"{TODO}: a page is never unbounded"


async def test_a_driver_lists_the_trips_they_were_given(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    rider, driver = await signed_in(client, "rider"), await signed_in(client, "driver")
    trip = await requested_trip(client, rider)
    assert await repository.assign(db_session, trip["id"], await user_id(client, driver))
    await db_session.commit()

    for who in (driver, rider):
        response = await client.get("/trips", headers=who)
        assert response.status_code == 200, f"{TODO}: {response.status_code} {response.text}"
        assert [t["id"] for t in response.json()["items"]] == [trip["id"]], TODO


async def test_the_history_needs_a_signed_in_user(client: AsyncClient) -> None:
    response = await client.get("/trips")
    assert response.status_code == 401, f"{TODO}: {response.status_code}"

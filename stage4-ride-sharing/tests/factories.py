"""Test data made through the API, as a client would: riders, drivers, trips."""

import itertools
import time
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from rides.models import Role, Trip, User

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)

# Two points in central Paris, about 2 km apart, and points near the first.
PICKUP = {"lat": 48.8566, "lng": 2.3522}
DROPOFF = {"lat": 48.8738, "lng": 2.2950}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{next(_numbers)}-{time.monotonic_ns()}@example.com"


def north_of(point: dict[str, float], km: float) -> dict[str, float]:
    """A point `km` north of `point` (a degree of latitude is about 111 km)."""
    return {"lat": point["lat"] + km / 111.2, "lng": point["lng"]}


async def signed_in(client: AsyncClient, role: str = "rider") -> dict[str, str]:
    """Registers an account in `role` and returns the headers of a request signed in as it."""
    email = unique_email(role)
    response = await client.post(
        "/users", json={"email": email, "name": "Test User", "password": PASSWORD, "role": role}
    )
    assert response.status_code == 201, response.text
    login = await client.post("/users/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def user_id(client: AsyncClient, headers: dict[str, str]) -> int:
    me: int = (await client.get("/users/me", headers=headers)).json()["id"]
    return me


async def ticket(client: AsyncClient, user: dict[str, str]) -> str:
    """A socket ticket for the signed-in user (`user` is its headers), driver or rider."""
    response = await client.post("/users/me/socket-ticket", headers=user)
    assert response.status_code == 200, response.text
    issued: str = response.json()["ticket"]
    return issued


async def requested_trip(client: AsyncClient, rider: dict[str, str]) -> dict[str, Any]:
    response = await client.post(
        "/trips", json={"pickup": PICKUP, "dropoff": DROPOFF}, headers=rider
    )
    assert response.status_code == 201, response.text
    trip: dict[str, Any] = response.json()
    return trip


# --- rows committed directly, for the dispatcher's tests (they need no HTTP) ----------


async def committed_users(session: AsyncSession, role: Role, count: int) -> list[int]:
    users = [
        User(email=unique_email(role.value), name="Test", password_hash="unused", role=role)
        for _ in range(count)
    ]
    session.add_all(users)
    await session.commit()
    return [user.id for user in users]


async def committed_trip(session: AsyncSession, rider_id: int) -> int:
    trip = Trip(
        rider_id=rider_id,
        pickup_lat=PICKUP["lat"],
        pickup_lng=PICKUP["lng"],
        dropoff_lat=DROPOFF["lat"],
        dropoff_lng=DROPOFF["lng"],
        quoted_fare_cents=1000,
    )
    session.add(trip)
    await session.commit()
    return trip.id

"""The trip's lifecycle under any sequence of moves (hypothesis): the rider, the driver and
dispatch push and pull in any order, from current or stale versions, and the trip only
ever takes the moves the state machine allows, each exactly once."""

import asyncio
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from rides.config import Settings
from rides.models import CancelledBy, Role, TripStatus, User
from rides.trips import repository, service
from rides.trips.states import DRIVER_MOVES, MAY_CANCEL, NEXT
from roadmap_shared.errors import Conflict, NotFound
from tests.conftest import make_settings
from tests.factories import committed_trip, committed_users


@dataclass(frozen=True)
class Move:
    actor: str  # "rider", "driver" or "dispatch"
    to: TripStatus
    stale: bool  # sent with the version before the current one


moves = st.builds(
    Move,
    actor=st.sampled_from(["rider", "driver", "dispatch"]),
    to=st.sampled_from(list(TripStatus)),
    stale=st.booleans(),
)


def allowed(status: TripStatus, move: Move) -> bool:
    """The model: what the state machine says, before any code runs."""
    if move.stale or move.to not in NEXT[status]:
        return False
    if move.to is TripStatus.CANCELLED:
        by = {"rider": CancelledBy.RIDER, "driver": CancelledBy.DRIVER}.get(move.actor)
        return by is not None and status in MAY_CANCEL[by]
    if move.to is TripStatus.DRIVER_ASSIGNED:
        return move.actor == "dispatch"
    return move.actor == "driver" and move.to in DRIVER_MOVES


async def apply(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    trip_id: int,
    people: dict[str, int],
    move: Move,
) -> bool:
    """Makes the move as the app would; True if it changed the trip."""
    async with sessions() as session, session.begin():
        trip = await repository.get(session, trip_id)
        assert trip is not None
        version = trip.version - 1 if move.stale else trip.version
        before = trip.version
        if move.actor == "dispatch":
            if move.to is not TripStatus.DRIVER_ASSIGNED or move.stale:
                return False
            return await repository.assign(session, trip_id, people["driver"]) is not None
        user = await session.get(User, people[move.actor])
        assert user is not None
        try:
            if move.to is TripStatus.CANCELLED:
                changed = await service.cancel(session, trip, user, version=version, reason="x")
            else:
                changed = await service.advance(
                    session, settings, trip, user, to=move.to, version=version
                )
        except (Conflict, NotFound):  # NotFound: not this user's move to make
            return False
        return changed.version > before


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence=st.lists(moves, min_size=1, max_size=12))
def test_any_sequence_of_moves_follows_the_state_machine(
    database_url: str, redis_url: str, sequence: list[Move]
) -> None:
    asyncio.run(run_sequence(database_url, redis_url, sequence))


async def run_sequence(database_url: str, redis_url: str, sequence: list[Move]) -> None:
    settings_ = make_settings(database_url, redis_url)
    engine = create_async_engine(database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with sessions() as setup:
            [rider] = await committed_users(setup, Role.RIDER, 1)
            [driver] = await committed_users(setup, Role.DRIVER, 1)
            trip_id = await committed_trip(setup, rider)
        people = {"rider": rider, "driver": driver}
        status, version, assigned = TripStatus.REQUESTED, 1, False
        for move in sequence:
            expected = allowed(status, move)
            changed = await apply(sessions, settings_, trip_id, people, move)
            assert changed == expected, (status, move)
            if changed:
                status, version = move.to, version + 1
                assigned = assigned or status is TripStatus.DRIVER_ASSIGNED
            async with sessions() as check:
                trip = await repository.get(check, trip_id)
                assert trip is not None
                assert (trip.status, trip.version) == (status, version)
                assert trip.driver_id == (driver if assigned else None)
    finally:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("TRUNCATE trips, users RESTART IDENTITY CASCADE")
        await engine.dispose()

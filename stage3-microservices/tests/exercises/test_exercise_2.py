"""Exercise 2 (medium): a sweeper that returns lapsed reservations' stock with no traffic.
`make exercise STAGE=stage3-microservices N=2`"""

import importlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.models import Reservation, ReservationStatus
from catalog.reservations import service
from catalog.reservations.schemas import ReservationLineIn, ReservationRequest
from roadmap_shared.database import Database, utcnow
from tests.catalog.factories import NO_CACHE, make_product, stock_of, variants_of

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 2: catalog.reservations.sweeper.sweep(sessions, now=...) returns the stock "
    "of every lapsed reservation, batch after batch (see the README)"
)
Sweep = Callable[..., Awaitable[int]]
LAPSED = 2 * service.SWEEP_BATCH + 50  # more than one batch


def sweeper() -> Sweep:
    try:
        module = importlib.import_module("catalog.reservations.sweeper")
    except ModuleNotFoundError:
        pytest.fail(TODO)
    sweep: Sweep = module.sweep
    return sweep


async def hold(session: AsyncSession, key: str, variant_id: int, *, now: datetime) -> None:
    request = ReservationRequest(lines=[ReservationLineIn(variant_id=variant_id, quantity=1)])
    await service.reserve(session, NO_CACHE, key, request, ttl=timedelta(minutes=5), now=now)
    await session.commit()


async def statuses(session: AsyncSession) -> dict[ReservationStatus, int]:
    counted = select(Reservation.status, func.count()).group_by(Reservation.status)
    return dict((await session.execute(counted)).tuples().all())


async def test_every_lapsed_reservation_returns_its_stock_and_no_other(
    committed_session: AsyncSession, database_url: str
) -> None:
    sweep = sweeper()
    product = await make_product(committed_session, prices_and_stock=[(1000, LAPSED + 2)])
    (variant,) = await variants_of(committed_session, product)
    variant_id = variant.id  # the session is expired below: read the id once
    long_ago = utcnow() - timedelta(hours=1)
    # Held now first: `reserve` sweeps a batch on its way, and would take lapsed ones.
    await hold(committed_session, "still-held", variant_id, now=utcnow())
    for n in range(LAPSED):
        await hold(committed_session, f"lapsed-{n}", variant_id, now=long_ago)
    await hold(committed_session, "confirmed", variant_id, now=long_ago)
    await service.confirm(
        committed_session, NO_CACHE, "confirmed", now=long_ago, low_stock_threshold=0
    )
    await committed_session.commit()
    assert await stock_of(committed_session, variant_id) == 0

    database = Database(database_url)
    sessions: async_sessionmaker[AsyncSession] = database.sessionmaker
    try:
        assert await sweep(sessions, now=utcnow()) == LAPSED, TODO
        assert await sweep(sessions, now=utcnow()) == 0, f"{TODO}: a second sweep finds none"
    finally:
        await database.dispose()

    assert await stock_of(committed_session, variant_id) == LAPSED, TODO
    assert await statuses(committed_session) == {
        ReservationStatus.EXPIRED: LAPSED,
        ReservationStatus.HELD: 1,
        ReservationStatus.CONFIRMED: 1,
    }, TODO

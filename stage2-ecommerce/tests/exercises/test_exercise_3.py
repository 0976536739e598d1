"""Exercise 3 (hard): hold stock while paying. `make exercise STAGE=stage2-ecommerce N=3`

The job runs on its own connections, so these tests commit for real (`committing_client`,
`committed_session`; every table is emptied afterwards)."""

import asyncio
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from httpx import AsyncClient, Response
from redis.asyncio import Redis
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from roadmap_shared.database import Database
from shop.config import Settings
from shop.models import Role, User, Variant
from shop.worker import worker_options
from tests.factories import CHECKOUT, auth, make_product, make_user, put_in_cart, variants_of

pytestmark = [pytest.mark.exercise, pytest.mark.slow]
TODO = (
    "Exercise 3: checkout reserves stock for 15 minutes (a `reservations` table: order_id, "
    "variant_id, quantity, expires_at), `POST /orders/{id}/pay` confirms it, and the job "
    "`shop.jobs.tasks.release_expired_reservations(ctx)` releases expired ones (see the README)"
)
Job = Callable[[dict[str, Any]], Awaitable[int]]
Release = Callable[[], Coroutine[Any, Any, int]]  # the job, run once: how many orders it released


@pytest_asyncio.fixture
async def release(
    settings: Settings, redis_client: Redis, committed_session: AsyncSession
) -> AsyncIterator[Release]:
    """Runs the job with the context the worker gives every job; the first run checks
    that the job and its table exist."""
    database = Database.from_settings(settings, pool_size=5, max_overflow=0)
    ctx = {"settings": settings, "database": database, "redis": redis_client}

    async def run() -> int:
        job: Job | None = getattr(
            importlib.import_module("shop.jobs.tasks"), "release_expired_reservations", None
        )
        assert job is not None, TODO
        return await job(ctx)

    yield run
    await database.dispose()


async def the_reservations_table(session: AsyncSession) -> None:
    table = await session.scalar(text("SELECT to_regclass('reservations')::text"))
    await session.commit()
    assert table == "reservations", TODO


async def stock_of(session: AsyncSession, variant: Variant) -> int | None:
    query = select(Variant.stock).where(Variant.id == variant.id)
    return await session.scalar(query.execution_options(populate_existing=True))


async def status_of(client: AsyncClient, settings: Settings, user: User, order_id: int) -> str:
    response = await client.get(f"/orders/{order_id}", headers=auth(settings, user))
    status: str = response.json()["status"]
    return status


async def buy(
    client: AsyncClient, session: AsyncSession, settings: Settings, variant: Variant, n: int = 1
) -> tuple[User, int]:
    buyer = await make_user(session)
    await put_in_cart(session, buyer, variant, n)
    response = await client.post("/orders", json=CHECKOUT, headers=auth(settings, buyer))
    assert response.status_code == 201, response.text
    order_id: int = response.json()["id"]
    return buyer, order_id


async def pay(client: AsyncClient, settings: Settings, buyer: User, order_id: int) -> Response:
    return await client.post(f"/orders/{order_id}/pay", headers=auth(settings, buyer))


async def expire(session: AsyncSession, order_id: int, *, in_: timedelta = timedelta()) -> None:
    """Moves the order's reservation's end to `in_` from now, behind the app's back."""
    statement = text(
        "UPDATE reservations SET expires_at = now() + CAST(:in_ AS interval) WHERE order_id = :id"
    )
    await session.execute(statement, {"in_": in_, "id": order_id})
    await session.commit()


async def held(session: AsyncSession, order_id: int) -> list[tuple[int, timedelta]]:
    query = text(
        "SELECT quantity, expires_at - now() FROM reservations WHERE order_id = :id "
        "ORDER BY variant_id"
    )
    rows = (await session.execute(query, {"id": order_id})).all()
    await session.commit()  # the next now() is a new transaction's
    return [(quantity, left) for quantity, left in rows]


async def test_checkout_holds_the_stock_for_fifteen_minutes(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    settings: Settings,
    release: Release,
) -> None:
    await the_reservations_table(committed_session)
    [variant] = await variants_of(
        committed_session, await make_product(committed_session, prices_and_stock=[(900, 3)])
    )
    _, order_id = await buy(committing_client, committed_session, settings, variant, 2)

    [(quantity, left)] = await held(committed_session, order_id)
    assert quantity == 2
    assert timedelta(minutes=14) < left <= timedelta(minutes=15), TODO
    assert await stock_of(committed_session, variant) == 1, "held units are not for sale"
    assert await release() == 0, f"{TODO}: nothing has expired yet"
    assert await stock_of(committed_session, variant) == 1


async def test_paying_in_time_confirms_the_reservation(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    settings: Settings,
    release: Release,
) -> None:
    await the_reservations_table(committed_session)
    [variant] = await variants_of(
        committed_session, await make_product(committed_session, prices_and_stock=[(900, 3)])
    )
    buyer, order_id = await buy(committing_client, committed_session, settings, variant, 2)

    paid = await pay(committing_client, settings, buyer, order_id)
    assert paid.status_code == 200, f"{TODO}: {paid.text}"
    assert paid.json()["status"] == "paid"
    assert await held(committed_session, order_id) == [], f"{TODO}: payment ends the hold"
    await expire(committed_session, order_id)  # nothing left to expire
    assert await release() == 0
    assert await stock_of(committed_session, variant) == 1, "sold units stay sold"
    again = await pay(committing_client, settings, buyer, order_id)
    assert again.status_code == 409
    stranger = await make_user(committed_session)
    assert (await pay(committing_client, settings, stranger, order_id)).status_code == 404


async def test_an_expired_reservation_goes_back_on_sale(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    settings: Settings,
    release: Release,
) -> None:
    await the_reservations_table(committed_session)
    product = await make_product(committed_session, prices_and_stock=[(900, 2)])
    [variant] = await variants_of(committed_session, product)
    buyer, order_id = await buy(committing_client, committed_session, settings, variant, 2)
    page = await committing_client.get(f"/products/{product.id}")
    assert page.json()["variants"][0]["in_stock"] is False  # cached as sold out

    await expire(committed_session, order_id)
    late = await pay(committing_client, settings, buyer, order_id)
    assert late.status_code == 409, f"{TODO}: an expired reservation cannot be paid"
    assert late.headers["content-type"] == "application/problem+json"
    assert await release() == 1, TODO
    assert await release() == 0, "released once"

    assert await status_of(committing_client, settings, buyer, order_id) == "cancelled"
    assert await stock_of(committed_session, variant) == 2
    page = await committing_client.get(f"/products/{product.id}")
    assert page.json()["variants"][0]["in_stock"] is True, f"{TODO}: the cached page too"
    await buy(committing_client, committed_session, settings, variant, 2)  # on sale again


async def test_a_reservation_expiring_while_its_buyer_pays_is_sold_or_released_never_both(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    settings: Settings,
    release: Release,
) -> None:
    await the_reservations_table(committed_session)
    buyers = 12
    [variant] = await variants_of(
        committed_session, await make_product(committed_session, prices_and_stock=[(900, buyers)])
    )
    orders = [
        await buy(committing_client, committed_session, settings, variant) for _ in range(buyers)
    ]
    # Expiries spread over the next few hundred milliseconds, while payments and releases
    # run at once: some payments come in time, some just too late.
    for n, (_, order_id) in enumerate(orders):
        await expire(committed_session, order_id, in_=timedelta(milliseconds=40 * n))

    async def keep_releasing() -> None:
        for _ in range(15):
            await release()
            await asyncio.sleep(0.03)

    async def pay_late(n: int, buyer: User, order_id: int) -> Response:
        await asyncio.sleep(0.04 * n + 0.02 * (n % 3 - 1))
        return await pay(committing_client, settings, buyer, order_id)

    payments, _ = await asyncio.gather(
        asyncio.gather(*(pay_late(n, *order) for n, order in enumerate(orders))),
        keep_releasing(),
    )
    await asyncio.sleep(0.1)
    await release()  # whatever expired after the last release above

    statuses = [await status_of(committing_client, settings, *order) for order in orders]
    for payment, status in zip(payments, statuses, strict=True):
        assert payment.status_code in (200, 409), payment.text
        assert status == ("paid" if payment.status_code == 200 else "cancelled"), TODO
    assert await stock_of(committed_session, variant) == statuses.count("cancelled"), (
        f"{TODO}: each released reservation gives its stock back once, a paid one never"
    )
    assert all([await held(committed_session, order_id) == [] for _, order_id in orders])


async def waiting_for_locks(engine: AsyncEngine, count: int) -> None:
    """Returns once `count` statements of this database wait for a lock."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(200):
        async with engine.connect() as connection:
            if await connection.scalar(query) == count:
                return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{count} statements never waited for a lock at once")


async def lock_the_variant(connection: AsyncConnection, variant: Variant) -> None:
    """Holds the variant's row until `connection` commits: stock cannot move meanwhile."""
    statement = text("SELECT 1 FROM variants WHERE id = :id FOR UPDATE")
    await connection.execute(statement, {"id": variant.id})


async def test_paying_while_the_order_is_being_cancelled_pays_or_cancels_never_both(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    db_engine: AsyncEngine,
    settings: Settings,
) -> None:
    await the_reservations_table(committed_session)
    [variant] = await variants_of(
        committed_session, await make_product(committed_session, prices_and_stock=[(900, 1)])
    )
    buyer, order_id = await buy(committing_client, committed_session, settings, variant)
    headers = auth(settings, buyer)

    async with db_engine.connect() as holder:
        await lock_the_variant(holder, variant)
        # The cancellation moves the order's status (its row now locked), then waits here
        # to put the unit back; the payment starts meanwhile, while the reservation is
        # still there in every snapshot, and waits for the order's row.
        cancelling = asyncio.create_task(
            committing_client.post(f"/orders/{order_id}/cancel", headers=headers)
        )
        await waiting_for_locks(db_engine, 1)
        paying = asyncio.create_task(pay(committing_client, settings, buyer, order_id))
        await waiting_for_locks(db_engine, 2)
        await holder.commit()
    cancelled, paid = await cancelling, await paying

    assert cancelled.status_code == 200
    assert paid.status_code == 409, (
        f"{TODO}: the payment waited for the order's row, which is now cancelled; check "
        "the status in the UPDATE that pays (PostgreSQL re-checks the row, not a subquery)"
    )
    assert await status_of(committing_client, settings, buyer, order_id) == "cancelled"
    assert await stock_of(committed_session, variant) == 1


async def test_an_order_paid_while_the_job_releases_others_stays_paid(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    db_engine: AsyncEngine,
    settings: Settings,
    release: Release,
) -> None:
    await the_reservations_table(committed_session)
    admin = auth(settings, await make_user(committed_session, role=Role.ADMIN))
    [variant] = await variants_of(
        committed_session, await make_product(committed_session, prices_and_stock=[(900, 2)])
    )
    first_buyer, first = await buy(committing_client, committed_session, settings, variant)
    second_buyer, second = await buy(committing_client, committed_session, settings, variant)
    await expire(committed_session, first, in_=-timedelta(seconds=2))
    await expire(committed_session, second, in_=-timedelta(seconds=1))

    async with db_engine.connect() as holder:
        await lock_the_variant(holder, variant)
        # The job has found both expired orders and waits to restock the first; meanwhile
        # an admin records the second one's payment (a transfer that arrived late).
        releasing = asyncio.create_task(release())
        await waiting_for_locks(db_engine, 1)
        recorded = asyncio.create_task(
            committing_client.post(
                f"/admin/orders/{second}/status", json={"status": "paid"}, headers=admin
            )
        )
        # Unless the job has locked the second order too (then the admin waits for it).
        await asyncio.wait({recorded}, timeout=2)
        await holder.commit()
    await releasing
    if (await recorded).status_code == 200:
        assert await status_of(committing_client, settings, second_buyer, second) == "paid", (
            f"{TODO}: the job cancels an order only while it is still pending"
        )
        assert await stock_of(committed_session, variant) == 1
    assert await status_of(committing_client, settings, first_buyer, first) == "cancelled"


def test_the_worker_releases_expired_reservations_every_minute(settings: Settings) -> None:
    names = {job.name for job in worker_options(settings)["cron_jobs"]}
    assert "cron:release_expired_reservations" in names, f"{TODO}: schedule it in shop.worker"

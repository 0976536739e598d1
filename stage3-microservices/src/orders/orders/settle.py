"""Settling the checkouts the saga left unfinished, from the worker (`python -m orders.worker`).

A checkout can stop half-way: its process dies, or the catalog's answer to the
confirmation is lost. Its order is then neither placed nor failed, and nobody may come
back for it (a client that sent no `Idempotency-Key` cannot resume its checkout). Every
pass takes the orders unchanged for longer than any checkout can take, and ends each:

- `confirming`: the confirmation was sent, and may have taken effect. Ask the catalog
  (`GET /reservations/{key}`). Confirmed: placed. Still held: the confirmation never
  arrived, and the stock is still the customer's; confirm it now, then placed. Released
  or lapsed: failed, the cart as it was.
- `pending`: no confirmation was ever sent, so nothing was sold; the checkout's process
  died mid-way. Failed, the cart as it was, the reservation released.
- `cancelling`: the customer cancelled, and the catalog did not answer the request to
  give the stock back (`orders.orders.cancellation`). Ask it again, then cancelled.

Each ending is a conditional update (`checkout.place`, `checkout.abandon`), so two workers
settling the same order, or a retried checkout racing the worker, end it once, with one
`order.placed`. Only an answer about the reservation itself fails a `confirming` order:
a catalog that cannot be reached, or that refuses for any other reason (a token it no
longer accepts, a rate limit), leaves the order for the next pass, since the stock may
well be sold.
"""

import asyncio
import logging
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from orders.catalog_client import CatalogClient, CatalogRefused, CatalogUnavailable
from orders.models import UNSETTLED, Order, OrderStatus
from orders.orders.cancellation import finish, give_back
from orders.orders.checkout import RESERVATION_GONE, abandon, place
from roadmap_shared.database import Database, utcnow

logger = logging.getLogger(__name__)

# Orders settled per pass: bounded, so that a pass after a long outage of the catalog
# holds no more than this in memory; the next pass takes the next batch at once.
SETTLE_BATCH = 100


async def settle(
    database: Database, catalog: CatalogClient, *, older_than: timedelta, now: datetime
) -> int:
    """Settles the checkouts unchanged since `now - older_than`, one batch; how many of
    them it found an end for (the rest wait for the catalog to answer)."""
    async with database.sessionmaker() as session:
        unsettled = await session.scalars(
            select(Order)
            .options(selectinload(Order.lines))
            .where(Order.status.in_(UNSETTLED), Order.updated_at < now - older_than)
            .order_by(Order.updated_at)
            .limit(SETTLE_BATCH)
        )
        orders = unsettled.all()
    settled = 0
    for order in orders:
        ended = False
        try:
            ended = await _settle_one(database, catalog, order)
        except CatalogUnavailable:
            logger.info("order %s: the catalog is unavailable; settling it later", order.id)
        except Exception:
            # One order that cannot be settled must not hold back the others behind it.
            logger.exception("order %s could not be settled; trying again later", order.id)
        if ended:
            settled += 1
            continue
        try:
            await _postpone(database, order.id)
        except Exception:
            logger.exception("order %s could not be postponed", order.id)
    return settled


async def _postpone(database: Database, order_id: int) -> None:
    """Sends an order that found no end to the back of the line: passes take the oldest
    first, so a batch of orders that always fail would otherwise be all any pass sees."""
    async with database.sessionmaker() as session, session.begin():
        await session.execute(
            update(Order)
            .where(Order.id == order_id, Order.status.in_(UNSETTLED))
            .values(updated_at=func.now())
        )


async def _settle_one(database: Database, catalog: CatalogClient, order: Order) -> bool:
    """Whether the order was given an end."""
    if order.status is OrderStatus.CANCELLING:
        return await _finish_cancelling(database, catalog, order)
    if order.status is OrderStatus.PENDING:
        await abandon(database, catalog, order, reason="the checkout was interrupted")
        return True
    key = order.reservation_key
    try:
        reservation = await catalog.reservation(key)
        if reservation["status"] == "held":
            reservation = await catalog.confirm(key)
    except CatalogRefused as refused:
        if refused.status not in RESERVATION_GONE:
            logger.warning(
                "order %s: the catalog refused to say (%s %s); settling it later",
                order.id,
                refused.status,
                refused.detail,
            )
            return False
        await abandon(database, catalog, order, reason=refused.detail)
        return True
    if reservation["status"] == "confirmed":
        await place(database, order.id, reservation)
    else:
        reason = f"the reservation was {reservation['status']} before it was confirmed"
        await abandon(database, catalog, order, reason=reason)
    return True


async def _finish_cancelling(database: Database, catalog: CatalogClient, order: Order) -> bool:
    try:
        await give_back(catalog, order.reservation_key)
    except CatalogRefused as refused:
        logger.warning(
            "order %s: the catalog refused its cancellation (%s %s); finishing it later",
            order.id,
            refused.status,
            refused.detail,
        )
        return False
    await finish(database, order.id)
    return True


async def settle_forever(
    database: Database, catalog: CatalogClient, *, older_than: timedelta, interval_seconds: float
) -> NoReturn:
    """Settles, pass after pass, until cancelled. A failed pass (the database is down) is
    logged and tried again after the interval: the worker outlives an outage."""
    while True:
        settled = 0
        try:
            settled = await settle(database, catalog, older_than=older_than, now=utcnow())
        except Exception:
            logger.exception("settling checkouts failed; trying again shortly")
        if settled < SETTLE_BATCH:
            await asyncio.sleep(interval_seconds)

"""Cancelling an order: the saga's compensation after its point of no return.

Before the confirmation the saga gives stock back by releasing the reservation. A placed
order's reservation is confirmed, and a release is refused; the catalog gives a confirmed
reservation's stock back only when asked to cancel it. So a cancellation is a small saga
of its own, in steps that each commit:

1. Decide (one transaction here): the order moves from `placed` or `confirming` to
   `cancelling`, a conditional update. From that commit the order can no longer be
   placed (`checkout.place` and `checkout.abandon` act only on `confirming` orders), and
   whoever finds it `cancelling` (a retried cancel, a concurrent one, the settler) knows
   what is left to do.
2. Give the stock back (`give_back`): cancel the reservation in the catalog. Idempotent,
   and of any number of cancels the catalog returns the stock once.
3. Finish (one transaction here): `cancelling` to `cancelled` and `order.cancelled` in
   the outbox, one conditional update, so the event is written once.

A catalog that cannot be reached at step 2 leaves the order `cancelling`: the caller gets
`503` with `Retry-After`, and the settler (or the customer's retry) finishes it. Going
back to `placed` would be wrong, for the same reason as a lost confirmation: the cancel
may have been carried out and its answer lost, and the stock may be back on sale.
"""

import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from orders.catalog_client import CatalogClient, CatalogRefused, CatalogUnavailable
from orders.models import CANCELLABLE, Order, OrderStatus, OutboxEvent, Role, User
from roadmap_shared.database import Database
from roadmap_shared.errors import Conflict, NotFound, ServiceUnavailable
from roadmap_shared.messaging import add_event

logger = logging.getLogger(__name__)

ORDER_CANCELLED = "order.cancelled"

# The catalog's answers to a cancel that mean "this reservation is not confirmed": there is
# none (404), or it is held, released or lapsed (409). Its stock is then given back by a
# release, or was already.
NOT_CONFIRMED = frozenset({404, 409})


async def cancel(database: Database, catalog: CatalogClient, caller: User, order_id: int) -> Order:
    """The order, cancelled. The caller's own order; an admin's, any order. Cancelling a
    cancelled order answers it again. No database connection is held while the catalog
    is called."""
    order = await _decide(database, caller, order_id)
    if order.status is OrderStatus.CANCELLED:
        return order
    try:
        await give_back(catalog, order.reservation_key)
    except CatalogUnavailable as down:
        raise ServiceUnavailable(
            "The catalog is unavailable; the cancellation is recorded and will be finished "
            "shortly (the order is cancelling)",
            retry_after_seconds=down.retry_after_seconds,
        ) from down
    except CatalogRefused as refused:
        # Not the customer's doing (a token the catalog no longer accepts): an outage for
        # them, an error in the logs for us; the settler tries again.
        logger.error("order %s: the catalog refused its cancellation: %s", order.id, refused)
        raise ServiceUnavailable(
            "Cancelling is unavailable; please try again shortly", retry_after_seconds=30
        ) from refused
    return await finish(database, order.id)


async def _decide(database: Database, caller: User, order_id: int) -> Order:
    """Step 1: the order `cancelling` (or already past it); 404 if the caller may not see
    it, 409 if it cannot be cancelled."""
    async with database.sessionmaker() as session, session.begin():
        query = select(Order.status).where(Order.id == order_id)
        if caller.role is not Role.ADMIN:
            # Someone else's order is "not found", as everywhere in this service.
            query = query.where(Order.user_id == caller.id)
        if await session.scalar(query) is None:
            raise NotFound("No such order")
        await session.execute(
            update(Order)
            .where(Order.id == order_id, Order.status.in_(CANCELLABLE))
            .values(status=OrderStatus.CANCELLING)
        )
    order = await _load(database, order_id)
    if order.status not in (OrderStatus.CANCELLING, OrderStatus.CANCELLED):
        raise Conflict(
            f"This order is {order.status.value}; only a placed order can be cancelled",
            extra={"order_id": order.id},
        )
    return order


async def give_back(catalog: CatalogClient, key: str) -> None:
    """Step 2: the reservation's stock back in the catalog, whatever became of it.

    Confirmed (a placed order): cancelled. Not confirmed (a `confirming` order whose
    confirmation never arrived): released, so that a confirmation still on its way is
    refused. A release refused means the confirmation landed in between; a confirmed
    reservation changes only by being cancelled, so cancelling it then is final."""
    try:
        await catalog.cancel(key)
    except CatalogRefused as refused:
        if refused.status not in NOT_CONFIRMED:
            raise
        try:
            await catalog.release(key)
        except CatalogRefused as release_refused:
            if release_refused.status != 409:
                raise
            await catalog.cancel(key)


async def finish(database: Database, order_id: int) -> Order:
    """Step 3: `cancelled`, with `order.cancelled`; once, however many finish it at once."""
    async with database.sessionmaker() as session, session.begin():
        cancelled = await session.scalar(
            update(Order)
            .where(Order.id == order_id, Order.status == OrderStatus.CANCELLING)
            .values(status=OrderStatus.CANCELLED)
            .returning(Order.id)
        )
        if cancelled is not None:
            order = (await session.scalars(select(Order).where(Order.id == order_id))).one()
            user = await session.get_one(User, order.user_id)
            add_event(session, OutboxEvent, ORDER_CANCELLED, order_cancelled(order, user))
    return await _load(database, order_id)


def order_cancelled(order: Order, user: User) -> dict[str, Any]:
    """The payload of `order.cancelled`: what the cancellation email says (the contract:
    notifications.emails.OrderCancelled)."""
    return {
        "order_id": order.id,
        "user_id": order.user_id,
        "customer_email": user.email,
        "customer_name": user.name,
        "currency": order.currency,
        "total_amount": order.total_amount,
    }


async def _load(database: Database, order_id: int) -> Order:
    async with database.sessionmaker() as session:
        query = (
            select(Order)
            .options(selectinload(Order.lines))
            .where(Order.id == order_id)
            .execution_options(populate_existing=True)
        )
        return (await session.scalars(query)).one()

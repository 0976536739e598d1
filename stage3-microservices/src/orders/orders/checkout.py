"""Checkout across a service boundary: a saga, since no transaction spans two databases.

The stock lives in the catalog service, the order here. Each step commits on its own, so
that a crash between two steps leaves a state the next attempt can resume from:

1. Begin (one transaction here): take the cart's lines and write a `pending` order with
   them. Its id names the catalog reservation: `order-<id>`.
2. Reserve the stock in the catalog (`PUT /reservations/order-<id>`). Idempotent: a retry
   after a lost answer gets the same reservation, with the prices it was made at.
3. Mark the order `confirming` (committed before the call), then confirm the reservation
   in the catalog. Idempotent too.
4. Place (one transaction here): price the lines from the reservation, mark the order
   `placed`, and write `order.placed` to the outbox, so the event exists if and only if
   the order does.

Compensation, while the order is `pending`: when the catalog refuses (not enough stock)
or cannot be reached, the saga marks the order `failed`, puts the lines back in the cart
and releases the reservation (the catalog remembers a release even for a key it never
saw, so a reservation that arrives late is refused). If even the release cannot reach the
catalog, the reservation lapses on its own (it has an expiry): stock is held for minutes,
never sold twice. Nothing was confirmed, so giving up is safe.

Once `confirming`, giving up is not: a confirmation whose answer never came (every attempt
timed out, then the breaker opened) may have taken effect, and the stock may be sold. The
outcome is unknown, which is not a failure: the order stays `confirming`, the customer
gets `202 Accepted`, and the settler (`orders.orders.settle`, in the worker) asks the
catalog later and places or fails it. A refusal (the reservation lapsed) is known: failed.

A checkout retried with the same `Idempotency-Key` finds its order: placed, it is returned
again; pending (the first attempt crashed), the saga resumes at step 2; confirming, at
step 3. Every change of status is a conditional update, so of a checkout, its retry and
the settler, one decides each order's end, once.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from orders.cart import repository as carts
from orders.catalog_client import CatalogClient, CatalogRefused, CatalogUnavailable
from orders.models import Order, OrderLine, OrderStatus, OutboxEvent, User
from orders.orders.schemas import CheckoutRequest
from roadmap_shared.database import Database
from roadmap_shared.errors import Conflict, ServiceUnavailable
from roadmap_shared.messaging import add_event
from roadmap_shared.money import percentage

logger = logging.getLogger(__name__)

ORDER_PLACED = "order.placed"

# The catalog's refusals that speak of the reservation: there is none (404), or it lapsed
# or was released and cannot be confirmed any more (409). Nothing is sold: the order fails.
RESERVATION_GONE = frozenset({404, 409})


@dataclass(frozen=True)
class Pricing:
    currency: str
    tax_rate_basis_points: int


async def checkout(
    database: Database,
    catalog: CatalogClient,
    user: User,
    request: CheckoutRequest,
    pricing: Pricing,
    *,
    idempotency_key: str | None,
) -> tuple[Order, bool]:
    """The order, and whether this request placed it (False: a replay, or a checkout
    still `confirming`, which the settler finishes).

    Each step runs in a transaction of its own (`_step`), and no connection is held while
    the catalog is called: a checkout waiting on the network costs no database resources.
    """
    order = await _begin(database, user, request, pricing, idempotency_key)
    if order.status in (OrderStatus.PLACED, OrderStatus.CANCELLING, OrderStatus.CANCELLED):
        return order, False  # what the key began has ended: a replay, never a second saga
    if order.status is OrderStatus.FAILED:
        raise _failed(order)
    if order.status is OrderStatus.PENDING:
        await _reserve(database, catalog, order)
        order = await _mark_confirming(database, order.id)
        if order.status is OrderStatus.PLACED:  # a retry with the same key placed it
            return order, False
    return await _confirm(database, catalog, order)


def _failed(order: Order) -> Conflict:
    return Conflict(
        f"This checkout failed: {order.failure_reason}. Try again with a new Idempotency-Key",
        extra={"order_id": order.id},
    )


async def _reserve(database: Database, catalog: CatalogClient, order: Order) -> None:
    """Step 2; on a refusal or an outage the order is given up and the error raised."""
    lines = [(line.variant_id, line.quantity) for line in order.lines]
    try:
        await catalog.reserve(order.reservation_key, lines)
    except CatalogRefused as refused:
        await abandon(database, catalog, order, reason=refused.detail)
        if refused.status in (409, 422):
            raise Conflict(refused.detail, extra={"order_id": order.id}) from refused
        # Anything else (401: the catalog does not trust our tokens) is our fault, not
        # the customer's: the same 503 as an outage, and an error in the logs.
        logger.error("the catalog refused order %s with %s", order.id, refused.status)
        raise ServiceUnavailable(
            "Checkout is unavailable; please try again shortly", retry_after_seconds=30
        ) from refused
    except CatalogUnavailable as down:
        await abandon(database, catalog, order, reason="the catalog was unavailable")
        raise ServiceUnavailable(
            "The catalog is unavailable, so checkout is too; nothing was reserved",
            retry_after_seconds=down.retry_after_seconds,
        ) from down


async def _mark_confirming(database: Database, order_id: int) -> Order:
    """Step 3's first half: `confirming`, committed before the confirmation is sent, so
    that whoever finds the order later knows the stock may be sold. An order no longer
    pending (the settler gave it up, or a retry got further) is returned as it is."""
    async with _step(database) as session:
        await session.execute(
            update(Order)
            .where(Order.id == order_id, Order.status == OrderStatus.PENDING)
            .values(status=OrderStatus.CONFIRMING)
        )
    order = await _load(database, order_id)
    if order.status is OrderStatus.FAILED:
        raise _failed(order)
    return order


async def _confirm(database: Database, catalog: CatalogClient, order: Order) -> tuple[Order, bool]:
    """Step 3's second half, then step 4."""
    try:
        reservation = await catalog.confirm(order.reservation_key)
    except CatalogRefused as refused:
        if refused.status in RESERVATION_GONE:
            # The reservation lapsed or was released: it can never be confirmed now, and
            # nothing was sold, so the order fails.
            await abandon(database, catalog, order, reason=refused.detail)
            raise Conflict(refused.detail, extra={"order_id": order.id}) from refused
        # Any other refusal (a token the catalog no longer accepts, a rate limit) says
        # nothing of the reservation: an earlier attempt may have confirmed it, so the
        # stock may be sold. The order stays confirming, for a retry or the settler.
        logger.error("the catalog refused to confirm order %s: %s", order.id, refused.status)
        raise ServiceUnavailable(
            "Checkout is unavailable; please try again shortly", retry_after_seconds=30
        ) from refused
    except CatalogUnavailable:
        # No answer: the catalog may have confirmed (the answer was lost) or not. Failing
        # the order now could leave stock sold under a failed order; it stays confirming.
        logger.warning("order %s: confirmation unanswered; left for the settler", order.id)
        return await _load(database, order.id), False
    return await place(database, order.id, reservation)


@asynccontextmanager
async def _step(database: Database) -> AsyncIterator[AsyncSession]:
    """One step of the saga: a transaction committed when the block ends."""
    async with database.sessionmaker() as session, session.begin():
        yield session


async def _begin(
    database: Database,
    user: User,
    request: CheckoutRequest,
    pricing: Pricing,
    idempotency_key: str | None,
) -> Order:
    """Step 1: the pending order, with the cart's lines; or the order this key began."""
    async with _step(database) as session:
        # ON CONFLICT DO NOTHING: of two requests with one key, the second waits for the
        # first's commit, then finds its order instead of starting another.
        order_id = await session.scalar(
            insert(Order)
            .values(
                user_id=user.id,
                idempotency_key=idempotency_key,
                status=OrderStatus.PENDING,
                currency=pricing.currency,
                tax_rate_basis_points=pricing.tax_rate_basis_points,
                shipping_address=request.shipping_address.model_dump(),
            )
            .on_conflict_do_nothing(index_elements=[Order.user_id, Order.idempotency_key])
            .returning(Order.id)
        )
        if order_id is None:  # only a key conflicts: NULL keys never do
            existing = await session.scalar(
                _with_lines(select(Order)).where(
                    Order.user_id == user.id, Order.idempotency_key == idempotency_key
                )
            )
            if existing is None:  # the first request rolled back (an empty cart)
                raise Conflict("Your cart is empty")
            return existing
        cart_lines = await carts.take_all(session, user.id)  # by variant id
        if not cart_lines:
            raise Conflict("Your cart is empty")  # rolls the order back with it
        session.add_all(
            OrderLine(order_id=order_id, variant_id=variant_id, quantity=quantity)
            for variant_id, quantity in cart_lines
        )
    return await _load(database, order_id)


def _with_lines(query: Select[Order]) -> Select[Order]:
    return query.options(selectinload(Order.lines)).execution_options(populate_existing=True)


async def _load(database: Database, order_id: int) -> Order:
    async with database.sessionmaker() as session:
        return (await session.scalars(_with_lines(select(Order)).where(Order.id == order_id))).one()


async def place(
    database: Database, order_id: int, reservation: dict[str, Any]
) -> tuple[Order, bool]:
    """Step 4: the order placed, priced from the confirmed reservation, with its event;
    and whether this call placed it (False: the settler or a retry got there first, and
    this checkout's answer is a replay)."""
    prices = {line["variant_id"]: line["unit_price_amount"] for line in reservation["lines"]}
    names = {line["variant_id"]: line["product_name"] for line in reservation["lines"]}
    async with _step(database) as session:
        # FOR UPDATE: a retry or the settler placing the same order at the same moment
        # waits, then finds it placed and leaves it (one order, one event).
        order = (
            await session.scalars(
                _with_lines(select(Order)).where(Order.id == order_id).with_for_update()
            )
        ).one()
        if order.status is not OrderStatus.CONFIRMING:
            return order, False
        user = await session.get_one(User, order.user_id)
        for line in order.lines:
            line.unit_price_amount = prices[line.variant_id]
            line.line_total_amount = prices[line.variant_id] * line.quantity
        # Integers add exactly; the tax is the one fraction, rounded once on the subtotal,
        # at the rate the checkout began with.
        order.subtotal_amount = sum(line.line_total_amount or 0 for line in order.lines)
        order.tax_amount = percentage(order.subtotal_amount, order.tax_rate_basis_points)
        order.total_amount = order.subtotal_amount + order.tax_amount
        order.status = OrderStatus.PLACED
        add_event(session, OutboxEvent, ORDER_PLACED, order_placed(order, user, names))
    return await _load(database, order_id), True


def order_placed(order: Order, user: User, product_names: dict[int, str]) -> dict[str, Any]:
    """The payload of `order.placed`: everything the confirmation email says, since its
    consumers read no other service's data (the contract: notifications.emails.OrderPlaced).
    The product names are the catalog's, as it answered the reservation."""
    return {
        "order_id": order.id,
        "user_id": order.user_id,
        "customer_email": user.email,
        "customer_name": user.name,
        "currency": order.currency,
        "total_amount": order.total_amount,
        "lines": [
            {
                "variant_id": line.variant_id,
                "product_name": product_names[line.variant_id],
                "quantity": line.quantity,
                "unit_price_amount": line.unit_price_amount,
            }
            for line in order.lines
        ],
    }


async def abandon(database: Database, catalog: CatalogClient, order: Order, *, reason: str) -> None:
    """Fails the order, puts its lines back in the cart, and releases its reservation.

    Only for an order whose reservation is known not to be confirmed: `pending` (no
    confirmation was ever sent), or `confirming` with the catalog's refusal in hand. The
    conditional update lets one caller do it, once, even if a retry or the settler try at
    the same moment; the others leave the order, and its reservation, to it."""
    lines = [(line.variant_id, line.quantity) for line in order.lines]
    async with _step(database) as session:
        failed = await session.scalar(
            update(Order)
            .where(Order.id == order.id, Order.status == order.status)
            .values(status=OrderStatus.FAILED, failure_reason=reason[:300])
            .returning(Order.id)
        )
        if failed is None:
            return
        await carts.put_back(session, order.user_id, lines)
    try:
        await catalog.release(order.reservation_key)
    except CatalogUnavailable:
        logger.warning("order %s: release failed; its reservation will lapse", order.id)
    except CatalogRefused as refused:
        logger.error("order %s: release refused (%s): %s", order.id, refused.status, refused)

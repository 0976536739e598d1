"""Reservations: stock held for a checkout in another service, with no shared transaction.

Every step can be repeated with the same effect, because the caller retries over a
network that loses answers: reserving again with the same key and lines returns the same
reservation; confirming a confirmed one, or releasing a released one, changes nothing.

Stock is taken with a conditional update (`stock >= quantity`), one statement per variant,
in variant id order. PostgreSQL locks the row for the update, and another transaction
updating it waits and re-checks the condition against the committed stock, so concurrent
reservations can never take more than there is. The id order means two reservations of
the same variants wait for each other in one direction only: no deadlock.

The public catalogue shows whether a variant is in stock, from a cache. Taking a variant's
last units, or giving units back to a variant that had none, changes that: those products'
cached pages are forgotten once the transaction commits (`CatalogCache.forget_products`).
Any other reservation leaves the pages as they are, so checkouts do not empty the cache.
"""

from datetime import datetime, timedelta

from sqlalchemy import ScalarSelect, Select, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from catalog.catalog.cache import CatalogCache
from catalog.models import (
    OutboxEvent,
    Product,
    Reservation,
    ReservationLine,
    ReservationStatus,
    Variant,
)
from catalog.reservations.schemas import ReservationRequest
from roadmap_shared.errors import Conflict, NotFound, UnprocessableContent
from roadmap_shared.messaging import add_event

STOCK_LOW = "stock.low"

# Lapsed reservations returned per sweep: bounded, so that a request that sweeps on its
# way (reserve) never pays for a backlog; the next one takes the next batch.
SWEEP_BATCH = 100


def _by_key(key: str) -> Select[Reservation]:
    return (
        select(Reservation).where(Reservation.key == key).options(selectinload(Reservation.lines))
    )


async def get(session: AsyncSession, key: str) -> Reservation:
    reservation = await session.scalar(_by_key(key))
    if reservation is None:
        raise NotFound("No reservation has this key")
    return reservation


async def reserve(
    session: AsyncSession,
    cache: CatalogCache,
    key: str,
    request: ReservationRequest,
    *,
    ttl: timedelta,
    now: datetime,
) -> tuple[Reservation, bool]:
    """The reservation under `key`, made now if new; and whether it was made now."""
    await expire_lapsed(session, now, cache=cache)
    # ON CONFLICT DO NOTHING: a concurrent request with the same key waits here until the
    # first commits (or rolls back), then finds its reservation instead of making another.
    made = await session.scalar(
        insert(Reservation)
        .values(key=key, status=ReservationStatus.HELD, expires_at=now + ttl)
        .on_conflict_do_nothing(index_elements=[Reservation.key])
        .returning(Reservation.id)
    )
    if made is None:
        return await _existing(session, key, request), False
    sold_out: set[int] = set()  # products with a variant this reservation took the last of
    for variant_id, quantity in sorted(request.quantities().items()):
        taken = (
            await session.execute(
                update(Variant)
                .where(
                    Variant.id == variant_id,
                    Variant.stock >= quantity,
                    Variant.product_id.in_(select(Product.id).where(Product.archived_at.is_(None))),
                )
                .values(stock=Variant.stock - quantity)
                .returning(
                    Variant.price_amount,
                    Variant.currency,
                    _display_name(),
                    Variant.product_id,
                    Variant.stock,
                )
            )
        ).first()
        if taken is None:
            # Raising rolls the whole transaction back: the stock taken for earlier lines
            # and the reservation row with it, so the key is free for a later try.
            await _refuse_line(session, variant_id)
        price, currency, product_name, product_id, stock_left = taken  # type: ignore[misc]
        if stock_left == 0:
            sold_out.add(product_id)
        session.add(
            ReservationLine(
                reservation_id=made,
                variant_id=variant_id,
                quantity=quantity,
                unit_price_amount=price,
                currency=currency,
                product_name=product_name,
            )
        )
    await session.flush()
    if sold_out:
        cache.forget_products(session, sold_out)
    return await get(session, key), True


def _display_name() -> ScalarSelect[str]:
    """The variant's product and name, "Shirt (M)", read in the statement that takes it."""
    name = Product.name + " (" + Variant.name + ")"
    return select(name).where(Product.id == Variant.product_id).scalar_subquery()


async def _refuse_line(session: AsyncSession, variant_id: int) -> None:
    exists = await session.scalar(select(Variant.id).where(Variant.id == variant_id))
    if exists is None:
        raise UnprocessableContent(f"Variant {variant_id} does not exist")
    raise Conflict(f"Not enough stock of variant {variant_id}")


async def _existing(session: AsyncSession, key: str, request: ReservationRequest) -> Reservation:
    reservation = await get(session, key)
    if reservation.status in (ReservationStatus.RELEASED, ReservationStatus.EXPIRED):
        raise Conflict(f"This reservation was {reservation.status.value}; use a new key")
    held = {line.variant_id: line.quantity for line in reservation.lines}
    if held != request.quantities():
        raise Conflict("This reservation key was already used for other lines")
    return reservation


async def confirm(
    session: AsyncSession,
    cache: CatalogCache,
    key: str,
    *,
    now: datetime,
    low_stock_threshold: int,
) -> Reservation:
    """Makes the stock taken final. Confirming twice is harmless; a lapsed or released
    reservation cannot be confirmed (its stock may already be someone else's). A variant
    this sale leaves at or under `low_stock_threshold` is announced (`stock.low`)."""
    confirmed = await session.scalar(
        update(Reservation)
        .where(
            Reservation.key == key,
            Reservation.status == ReservationStatus.HELD,
            Reservation.expires_at > now,
        )
        .values(status=ReservationStatus.CONFIRMED)
        .returning(Reservation.id)
    )
    if confirmed is not None:
        await announce_low_stock(session, confirmed, low_stock_threshold)
    if confirmed is None:
        await expire_lapsed(session, now, cache=cache)
        reservation = await get(session, key)
        if reservation.status is not ReservationStatus.CONFIRMED:
            raise Conflict(f"This reservation was {reservation.status.value}")
    session.expire_all()
    return await get(session, key)


async def announce_low_stock(session: AsyncSession, reservation_id: int, threshold: int) -> None:
    """`stock.low` for each variant of the reservation now at or under `threshold`, once
    per fall: the flag is set in the same statement (under the row lock), so of two sales
    that cross at once only one finds it unset, and every later sale finds it set."""
    variant_ids = select(ReservationLine.variant_id).where(
        ReservationLine.reservation_id == reservation_id
    )
    crossed = await session.execute(
        update(Variant)
        .where(
            Variant.id.in_(variant_ids),
            Variant.stock <= threshold,
            Variant.low_stock_alerted.is_(False),
        )
        .values(low_stock_alerted=True)
        .returning(Variant.id, Variant.sku, Variant.stock, _display_name())
    )
    for variant_id, sku, stock, product_name in sorted(crossed.all()):
        add_event(
            session,
            OutboxEvent,
            STOCK_LOW,
            {
                "variant_id": variant_id,
                "sku": sku,
                "product_name": product_name,
                "stock_left": stock,
                "threshold": threshold,
            },
        )


async def release(session: AsyncSession, cache: CatalogCache, key: str) -> Reservation:
    """Gives the stock back (a compensation). Releasing twice is harmless; a confirmed
    reservation is refused. Releasing a key never reserved leaves a released reservation
    behind (a tombstone), so a reservation request that arrives late (it was slow, not
    lost) is refused instead of holding stock for an order that has given up."""
    # The tombstone first: its INSERT waits on the key's unique index for a reservation
    # still being made by another transaction, and goes on once that one has committed or
    # rolled back. Only then is the row there to be released: an UPDATE run first would
    # not see the uncommitted row, and the release would answer "held" and return nothing.
    await session.execute(
        insert(Reservation)
        .values(key=key, status=ReservationStatus.RELEASED, expires_at=func.now())
        .on_conflict_do_nothing(index_elements=[Reservation.key])
    )
    released = await session.scalar(
        update(Reservation)
        .where(Reservation.key == key, Reservation.status == ReservationStatus.HELD)
        .values(status=ReservationStatus.RELEASED)
        .returning(Reservation.id)
    )
    if released is not None:
        await _return_stock(session, cache, [released])
    session.expire_all()
    reservation = await get(session, key)
    if reservation.status in (ReservationStatus.CONFIRMED, ReservationStatus.CANCELLED):
        raise Conflict(f"This reservation is {reservation.status.value}; it cannot be released")
    return reservation


async def cancel(session: AsyncSession, cache: CatalogCache, key: str) -> Reservation:
    """Gives a confirmed reservation's stock back: the compensation of an order cancelled
    after it was placed. The status moves from confirmed to cancelled in one conditional
    update, so of two cancels at once one returns the stock and the other, waiting for the
    row, finds it cancelled and returns nothing: cancelling twice is harmless. A held
    reservation is refused: its order was never placed, so the saga releases it."""
    cancelled = await session.scalar(
        update(Reservation)
        .where(Reservation.key == key, Reservation.status == ReservationStatus.CONFIRMED)
        .values(status=ReservationStatus.CANCELLED)
        .returning(Reservation.id)
    )
    if cancelled is not None:
        await _return_stock(session, cache, [cancelled])
    session.expire_all()
    reservation = await get(session, key)
    if reservation.status is not ReservationStatus.CANCELLED:
        raise Conflict(
            f"This reservation is {reservation.status.value}; only a confirmed one is cancelled"
        )
    return reservation


async def expire_lapsed(
    session: AsyncSession, now: datetime, *, cache: CatalogCache | None = None
) -> int:
    """Returns the stock of held reservations whose time is up; how many lapsed. Without
    `cache` (a caller that keeps none), pages showing a product as sold out stay cached
    until their expiry, `CATALOG_CACHE_TTL_SECONDS`."""
    # SKIP LOCKED: a reservation being confirmed or released right now is left to that
    # request, and two sweeps at once take different rows.
    lapsed = (
        select(Reservation.id)
        .where(Reservation.status == ReservationStatus.HELD, Reservation.expires_at <= now)
        .order_by(Reservation.id)
        .limit(SWEEP_BATCH)
        .with_for_update(skip_locked=True)
    )
    ids = list(
        await session.scalars(
            update(Reservation)
            .where(Reservation.id.in_(lapsed))
            .values(status=ReservationStatus.EXPIRED)
            .returning(Reservation.id)
        )
    )
    if ids:
        await _return_stock(session, cache, ids)
    return len(ids)


async def _return_stock(
    session: AsyncSession, cache: CatalogCache | None, reservation_ids: list[int]
) -> None:
    held = (
        select(ReservationLine.variant_id, func.sum(ReservationLine.quantity))
        .where(ReservationLine.reservation_id.in_(reservation_ids))
        .group_by(ReservationLine.variant_id)
        .order_by(ReservationLine.variant_id)  # the same lock order as `reserve`
    )
    back_in_stock: set[int] = set()  # products with a variant that had none left
    for variant_id, quantity in (await session.execute(held)).all():
        product_id, stock = (
            await session.execute(
                update(Variant)
                .where(Variant.id == variant_id)
                .values(stock=Variant.stock + quantity)
                .returning(Variant.product_id, Variant.stock)
            )
        ).one()
        if stock == quantity:
            back_in_stock.add(product_id)
    if back_in_stock and cache is not None:
        cache.forget_products(session, back_in_stock)

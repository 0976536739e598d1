"""Reading orders and moving them through the status machine."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.errors import Conflict, NotFound
from roadmap_shared.pagination import PageParams
from shop.catalog.cache import CatalogCache
from shop.models import Order, OrderStatus
from shop.orders import repository
from shop.orders.status import sources_of


async def get_own(session: AsyncSession, order_id: int, user_id: int) -> Order:
    # Someone else's order is "not found", not "forbidden": order ids reveal nothing.
    order = await repository.get(session, order_id, user_id=user_id)
    if order is None:
        raise NotFound("No such order")
    return order


async def get_any(session: AsyncSession, order_id: int) -> Order:
    order = await repository.get(session, order_id)
    if order is None:
        raise NotFound("No such order")
    return order


async def list_orders(
    session: AsyncSession,
    page: PageParams,
    *,
    user_id: int | None = None,
    status: OrderStatus | None = None,
    placed_after: datetime | None = None,
    placed_before: datetime | None = None,
) -> tuple[Sequence[Order], int]:
    return await repository.list_orders(
        session,
        page,
        user_id=user_id,
        status=status,
        placed_after=placed_after,
        placed_before=placed_before,
    )


async def change_status(
    session: AsyncSession,
    cache: CatalogCache,
    order_id: int,
    to: OrderStatus,
    *,
    owner_id: int | None = None,
) -> Order:
    """Moves the order to `to`, or raises 404 (no such order, or not `owner_id`'s) or 409
    (the status machine does not allow it from where the order is now)."""
    moved = await repository.move_status(
        session, order_id, to=to, allowed_from=sources_of(to), user_id=owner_id
    )
    if not moved:
        order = await repository.get(session, order_id, user_id=owner_id)
        if order is None:
            raise NotFound("No such order")
        raise Conflict(
            f"An order that is {order.status.value} cannot become {to.value}",
            extra={"current_status": order.status.value},
        )
    restocked: set[int] = set()
    if to is OrderStatus.CANCELLED:
        # Same lock order as checkout (ascending variant id), so a cancellation and a
        # checkout touching the same variants cannot deadlock.
        for line in await repository.lines_by_variant(session, order_id):
            product_id, stock = await repository.return_stock(
                session, line.variant_id, line.quantity
            )
            if stock == line.quantity:  # it was at zero: the product is back in stock
                restocked.add(product_id)
    if restocked:  # cached pages still say "out of stock"
        cache.forget_products(session, restocked)
    return await get_any(session, order_id)

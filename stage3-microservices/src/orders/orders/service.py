"""Reading orders."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from orders.models import Order, OrderStatus
from orders.orders import repository
from roadmap_shared.errors import NotFound
from roadmap_shared.pagination import PageParams


async def get_own(session: AsyncSession, order_id: int, user_id: int) -> Order:
    # Someone else's order is "not found", not "forbidden": order ids reveal nothing.
    order = await repository.get(session, order_id, user_id=user_id)
    if order is None:
        raise NotFound("No such order")
    return order


async def list_orders(
    session: AsyncSession, page: PageParams, *, user_id: int, status: OrderStatus | None = None
) -> tuple[Sequence[Order], int]:
    return await repository.list_orders(session, page, user_id=user_id, status=status)

from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from orders.models import Order, OrderStatus
from roadmap_shared.pagination import PageParams


def _with_lines(query: Select[Order]) -> Select[Order]:
    return query.options(selectinload(Order.lines))


async def get(session: AsyncSession, order_id: int, *, user_id: int | None = None) -> Order | None:
    """The order with its lines; with `user_id`, only if that user placed it."""
    query = _with_lines(select(Order).where(Order.id == order_id))
    if user_id is not None:
        query = query.where(Order.user_id == user_id)
    return await session.scalar(query.execution_options(populate_existing=True))


async def list_orders(
    session: AsyncSession,
    page: PageParams,
    *,
    user_id: int,
    status: OrderStatus | None = None,
) -> tuple[Sequence[Order], int]:
    query = select(Order).where(Order.user_id == user_id)
    if status is not None:
        query = query.where(Order.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    query = query.order_by(Order.created_at.desc(), Order.id.desc())
    orders = await session.scalars(_with_lines(query.limit(page.size).offset(page.offset)))
    return orders.all(), total

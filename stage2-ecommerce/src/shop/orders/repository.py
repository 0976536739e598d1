"""The orders' SQL, including the two statements that move stock."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from roadmap_shared.pagination import PageParams
from shop.models import Order, OrderLine, OrderStatus, Product, Variant


@dataclass(frozen=True)
class TakenStock:
    """A variant as it was when its stock was taken: the prices an order is made from."""

    variant_id: int
    product_id: int
    sku: str
    product_name: str
    variant_name: str
    price_amount: int
    currency: str
    stock_left: int


async def take_stock(session: AsyncSession, variant_id: int, quantity: int) -> TakenStock | None:
    """Takes `quantity` units if, and only if, that many are left and the product is for sale.

    One conditional UPDATE does the check and the write. It locks the variant's row; a
    concurrent checkout of the same variant waits for that lock, then PostgreSQL evaluates
    `stock >= :quantity` again on the row as the first transaction left it. So ten units
    are sold at most ten times, without `SELECT ... FOR UPDATE` and without a retry loop.
    None means there was not enough stock (or the product has been archived).
    """
    statement = (
        update(Variant)
        .where(
            Variant.id == variant_id,
            Variant.stock >= quantity,
            Product.id == Variant.product_id,
            Product.archived_at.is_(None),
        )
        .values(stock=Variant.stock - quantity)
        .returning(
            Variant.id,
            Variant.product_id,
            Variant.sku,
            Product.name,
            Variant.name,
            Variant.price_amount,
            Variant.currency,
            Variant.stock,
        )
    )
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        return None
    variant_id, product_id, sku, product_name, variant_name, price, currency, stock = row
    return TakenStock(
        variant_id, product_id, sku, product_name, variant_name, price, currency, stock
    )


async def return_stock(session: AsyncSession, variant_id: int, quantity: int) -> tuple[int, int]:
    """Puts `quantity` units back; returns the variant's product id and its stock now."""
    statement = (
        update(Variant)
        .where(Variant.id == variant_id)
        .values(stock=Variant.stock + quantity)
        .returning(Variant.product_id, Variant.stock)
    )
    product_id, stock = (await session.execute(statement)).one()
    return product_id, stock


async def availability(session: AsyncSession, variant_id: int) -> tuple[str, int, bool] | None:
    """SKU, stock and whether it is for sale: to explain a failed `take_stock`."""
    query = (
        select(Variant.sku, Variant.stock, Product.archived_at.is_(None))
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.id == variant_id)
    )
    row = (await session.execute(query)).one_or_none()
    return (row[0], row[1], row[2]) if row is not None else None


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
    user_id: int | None = None,
    status: OrderStatus | None = None,
    placed_after: datetime | None = None,
    placed_before: datetime | None = None,
) -> tuple[Sequence[Order], int]:
    query = select(Order)
    if user_id is not None:
        query = query.where(Order.user_id == user_id)
    if status is not None:
        query = query.where(Order.status == status)
    if placed_after is not None:
        query = query.where(Order.created_at >= placed_after)
    if placed_before is not None:
        query = query.where(Order.created_at < placed_before)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    query = query.order_by(Order.created_at.desc(), Order.id.desc())
    orders = await session.scalars(_with_lines(query.limit(page.size).offset(page.offset)))
    return orders.all(), total


async def move_status(
    session: AsyncSession,
    order_id: int,
    *,
    to: OrderStatus,
    allowed_from: frozenset[OrderStatus],
    user_id: int | None = None,
) -> bool:
    """Moves the order to `to` if it is in one of `allowed_from`, in one statement.

    Two admins (or a customer and an admin) acting at once cannot both succeed: the second
    UPDATE waits for the first's row lock, re-checks the status, and matches nothing. That
    is what makes "cancelling returns the stock" happen exactly once.
    """
    statement = (
        update(Order)
        .where(Order.id == order_id, Order.status.in_(allowed_from))
        .values(status=to, updated_at=func.now())
        .returning(Order.id)
    )
    if user_id is not None:
        statement = statement.where(Order.user_id == user_id)
    return await session.scalar(statement) is not None


async def lines_by_variant(session: AsyncSession, order_id: int) -> Sequence[OrderLine]:
    query = select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.variant_id)
    return (await session.scalars(query)).all()

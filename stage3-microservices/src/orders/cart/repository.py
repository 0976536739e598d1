from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from orders.models import MAX_LINE_QUANTITY, CartItem
from roadmap_shared.database import utcnow


async def items(session: AsyncSession, user_id: int) -> Sequence[CartItem]:
    """The user's lines, by variant id."""
    query = (
        select(CartItem)
        .where(CartItem.user_id == user_id)
        .order_by(CartItem.variant_id)
        # Lines changed by UPDATE statements earlier in this request are read afresh.
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).all()


async def count_lines(session: AsyncSession, user_id: int) -> int:
    query = select(func.count()).select_from(CartItem).where(CartItem.user_id == user_id)
    return await session.scalar(query) or 0


async def add(session: AsyncSession, user_id: int, variant_id: int, quantity: int) -> bool:
    """Adds `quantity` to the line (creating it if needed) in one statement, so two quick
    clicks add twice rather than losing one. False if the line would pass the maximum."""
    new_line = insert(CartItem).values(user_id=user_id, variant_id=variant_id, quantity=quantity)
    added_up = CartItem.quantity + new_line.excluded.quantity
    statement = new_line.on_conflict_do_update(
        index_elements=[CartItem.user_id, CartItem.variant_id],
        set_={"quantity": added_up, "updated_at": utcnow()},
        where=added_up <= MAX_LINE_QUANTITY,
    ).returning(CartItem.quantity)
    return await session.scalar(statement) is not None


async def set_quantity(session: AsyncSession, user_id: int, variant_id: int, quantity: int) -> bool:
    statement = (
        update(CartItem)
        .where(CartItem.user_id == user_id, CartItem.variant_id == variant_id)
        .values(quantity=quantity)
        .returning(CartItem.variant_id)
    )
    return await session.scalar(statement) is not None


async def remove(session: AsyncSession, user_id: int, variant_id: int) -> bool:
    statement = (
        delete(CartItem)
        .where(CartItem.user_id == user_id, CartItem.variant_id == variant_id)
        .returning(CartItem.variant_id)
    )
    return await session.scalar(statement) is not None


async def take_all(session: AsyncSession, user_id: int) -> list[tuple[int, int]]:
    """Empties the user's cart and returns its lines as (variant id, quantity), by variant id.

    One DELETE reads the lines and locks them. A second checkout of the same cart at the
    same moment (a double click, two tabs) waits for those row locks, then finds the lines
    gone and sees an empty cart, instead of ordering everything a second time. If the
    checkout fails, `put_back` returns the lines.
    """
    statement = (
        delete(CartItem)
        .where(CartItem.user_id == user_id)
        .returning(CartItem.variant_id, CartItem.quantity)
    )
    rows = (await session.execute(statement)).all()
    return sorted((variant_id, quantity) for variant_id, quantity in rows)


async def put_back(session: AsyncSession, user_id: int, lines: Sequence[tuple[int, int]]) -> None:
    """Returns the lines of a failed checkout to the cart (a line the customer has added
    again meanwhile keeps its new quantity)."""
    if lines:
        rows = [{"user_id": user_id, "variant_id": v, "quantity": q} for v, q in lines]
        await session.execute(insert(CartItem).values(rows).on_conflict_do_nothing())

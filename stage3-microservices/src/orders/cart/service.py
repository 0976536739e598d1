"""A cart is a list of wishes, not a reservation: it takes no stock and holds no prices.
Stock is reserved, and prices read, only at checkout (orders.orders.checkout), in the
catalog service. Adding to the cart does not ask the catalog whether the variant exists:
a cart that works while the catalog is down is worth more than an early 404, and the
checkout refuses what is not for sale anyway."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from orders.cart import repository
from orders.cart.schemas import MAX_CART_LINES
from orders.models import MAX_LINE_QUANTITY, CartItem
from roadmap_shared.errors import Conflict, NotFound


async def items(session: AsyncSession, user_id: int) -> Sequence[CartItem]:
    return await repository.items(session, user_id)


async def add(session: AsyncSession, user_id: int, variant_id: int, quantity: int) -> None:
    if not await repository.add(session, user_id, variant_id, quantity):
        raise Conflict(f"A cart line holds at most {MAX_LINE_QUANTITY} units")
    if await repository.count_lines(session, user_id) > MAX_CART_LINES:
        # Counted after the insert, inside this transaction; raising rolls the insert back.
        raise Conflict(f"A cart holds at most {MAX_CART_LINES} different items")


async def set_quantity(session: AsyncSession, user_id: int, variant_id: int, quantity: int) -> None:
    if not await repository.set_quantity(session, user_id, variant_id, quantity):
        raise NotFound("This variant is not in your cart")


async def remove(session: AsyncSession, user_id: int, variant_id: int) -> None:
    if not await repository.remove(session, user_id, variant_id):
        raise NotFound("This variant is not in your cart")

"""A cart is a list of wishes, not a reservation: it takes no stock and holds no prices.
Stock is taken, and prices read, only at checkout (shop.orders.checkout)."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.errors import Conflict, NotFound
from shop.cart import repository
from shop.cart.schemas import MAX_CART_LINES
from shop.catalog import repository as catalog
from shop.models import MAX_LINE_QUANTITY, CartItem


async def items(session: AsyncSession, user_id: int) -> Sequence[CartItem]:
    return await repository.items(session, user_id)


async def add(session: AsyncSession, user_id: int, variant_id: int, quantity: int) -> None:
    variant = await catalog.get_variant_for_sale(session, variant_id)
    if variant is None:
        raise NotFound("No such variant in the catalogue")
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

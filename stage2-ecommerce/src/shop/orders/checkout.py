"""Checkout: the cart becomes an order, and stock is taken, in one transaction.

1. Take the cart's lines out of the cart (one DELETE ... RETURNING, see
   `cart.repository.take_all`), so two checkouts of one cart cannot both order it.
2. For each line, take its stock with one conditional UPDATE (see `repository.take_stock`).
   Lines are taken in ascending variant id, so every checkout locks rows in the same
   order: two carts holding the same variants cannot each wait for the other (deadlock).
3. Price each line from the row the UPDATE returned: the price at this moment, not the
   one in the cart when it was filled.
4. Write the order and its lines, and write the jobs to run after commit (the
   confirmation email, low-stock alerts) into the outbox, in the same transaction.
5. Products that just sold out show "in stock" in cached pages: they go stale once the
   transaction commits.
If any line cannot be taken, the request raises 409 and everything above rolls back,
including the stock already taken for earlier lines and the cart's lines.
"""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.errors import Conflict
from roadmap_shared.money import percentage
from shop import outbox
from shop.cart import repository as carts
from shop.catalog.cache import CatalogCache
from shop.models import Order, OrderLine, OrderStatus, User
from shop.orders import repository
from shop.orders.repository import TakenStock
from shop.orders.schemas import CheckoutRequest


@dataclass(frozen=True)
class Pricing:
    currency: str
    tax_rate_basis_points: int
    low_stock_threshold: int


async def place_order(
    session: AsyncSession,
    cache: CatalogCache,
    user: User,
    request: CheckoutRequest,
    pricing: Pricing,
) -> Order:
    cart_lines = await carts.take_all(session, user.id)  # by variant id: the lock order
    if not cart_lines:
        raise Conflict("Your cart is empty")

    taken: list[tuple[TakenStock, int]] = []
    for variant_id, quantity in cart_lines:
        stock = await repository.take_stock(session, variant_id, quantity)
        if stock is None:
            raise await _cannot_take(session, variant_id, quantity)
        taken.append((stock, quantity))

    if any(stock.currency != pricing.currency for stock, _ in taken):
        raise Conflict("Some items are priced in another currency; they cannot be bought now")

    lines = [
        OrderLine(
            variant_id=stock.variant_id,
            sku=stock.sku,
            product_name=stock.product_name,
            variant_name=stock.variant_name,
            unit_price_amount=stock.price_amount,
            quantity=quantity,
            line_total_amount=stock.price_amount * quantity,
        )
        for stock, quantity in taken
    ]
    # Integers add exactly; the tax is the one fraction, rounded once on the subtotal.
    subtotal = sum(line.line_total_amount for line in lines)
    tax = percentage(subtotal, pricing.tax_rate_basis_points)
    order = Order(
        user_id=user.id,
        status=OrderStatus.PENDING,
        currency=pricing.currency,
        subtotal_amount=subtotal,
        tax_amount=tax,
        total_amount=subtotal + tax,
        tax_rate_basis_points=pricing.tax_rate_basis_points,
        shipping_address=request.shipping_address.model_dump(),
        lines=lines,
    )
    session.add(order)
    await session.flush()

    outbox.add(session, "send_order_confirmation", order_id=order.id)
    for stock, quantity in taken:
        # Alert once, when this checkout is the one that crosses the threshold.
        if stock.stock_left <= pricing.low_stock_threshold < stock.stock_left + quantity:
            outbox.add(
                session,
                "send_low_stock_alert",
                variant_id=stock.variant_id,
                stock_left=stock.stock_left,
            )

    if sold_out := [stock.product_id for stock, _ in taken if stock.stock_left == 0]:
        cache.forget_products(session, sold_out)
    return order


async def _cannot_take(session: AsyncSession, variant_id: int, wanted: int) -> Conflict:
    """A 409 that says which item failed and why, so the client can fix the cart."""
    found = await repository.availability(session, variant_id)
    if found is None or not found[2]:
        sku = found[0] if found else str(variant_id)
        return Conflict(
            f"{sku} is no longer sold; remove it from your cart",
            extra={"sku": sku, "requested": wanted, "available": 0},
        )
    sku, available, _ = found
    return Conflict(
        f"Only {available} of {sku} left; you asked for {wanted}",
        extra={"sku": sku, "requested": wanted, "available": available},
    )

from pydantic import BaseModel, Field

from roadmap_shared.fields import StoredBigId
from shop.models import MAX_LINE_QUANTITY, CartItem
from shop.schemas import Money

MAX_CART_LINES = 50


class CartItemAdd(BaseModel):
    variant_id: StoredBigId
    quantity: int = Field(default=1, ge=1, le=MAX_LINE_QUANTITY)


class CartItemUpdate(BaseModel):
    quantity: int = Field(ge=1, le=MAX_LINE_QUANTITY)


class CartLinePublic(BaseModel):
    variant_id: int
    product_id: int
    sku: str
    product_name: str
    variant_name: str
    unit_price: Money = Field(description="Today's price; checkout reads it again")
    quantity: int
    line_total: Money
    available: bool = Field(
        description="False when archived, with too little stock, or in another currency"
    )


class CartPublic(BaseModel):
    items: list[CartLinePublic]
    subtotal: Money = Field(description="Before tax, at today's prices")


def cart_public(items: list[CartItem], *, currency: str) -> CartPublic:
    lines = [
        CartLinePublic(
            variant_id=item.variant_id,
            product_id=item.variant.product_id,
            sku=item.variant.sku,
            product_name=item.variant.product.name,
            variant_name=item.variant.name,
            unit_price=Money(amount=item.variant.price_amount, currency=item.variant.currency),
            quantity=item.quantity,
            line_total=Money(
                amount=item.variant.price_amount * item.quantity, currency=item.variant.currency
            ),
            available=item.variant.product.archived_at is None
            and item.variant.stock >= item.quantity
            and item.variant.currency == currency,
        )
        for item in items
    ]
    # Amounts in different currencies do not add up. A line priced in another currency
    # (the shop changed its currency since) cannot be checked out, so it is left out.
    subtotal = sum(line.line_total.amount for line in lines if line.line_total.currency == currency)
    return CartPublic(items=lines, subtotal=Money(amount=subtotal, currency=currency))

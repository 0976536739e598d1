from pydantic import BaseModel, Field

from orders.models import MAX_LINE_QUANTITY, CartItem
from roadmap_shared.fields import StoredBigId

MAX_CART_LINES = 50


class CartItemAdd(BaseModel):
    variant_id: StoredBigId
    quantity: int = Field(default=1, ge=1, le=MAX_LINE_QUANTITY)


class CartItemUpdate(BaseModel):
    quantity: int = Field(ge=1, le=MAX_LINE_QUANTITY)


class CartLinePublic(BaseModel):
    variant_id: int
    quantity: int


class CartPublic(BaseModel):
    """The lines only: names, prices and stock live in the catalog service, which a
    client asks directly (through the gateway); checkout reads the prices there."""

    items: list[CartLinePublic]


def cart_public(items: list[CartItem]) -> CartPublic:
    return CartPublic(
        items=[CartLinePublic(variant_id=item.variant_id, quantity=item.quantity) for item in items]
    )

"""Every table of the shop. Importing this package registers them all on `Base.metadata`."""

from shop.models.accounts import Role, User
from shop.models.base import Base
from shop.models.cart import MAX_LINE_QUANTITY, CartItem
from shop.models.catalog import Category, Product, ProductImage, Variant
from shop.models.idempotency import IdempotencyKey
from shop.models.orders import Order, OrderLine, OrderStatus
from shop.models.outbox import OutboxMessage

__all__ = [
    "MAX_LINE_QUANTITY",
    "Base",
    "CartItem",
    "Category",
    "IdempotencyKey",
    "Order",
    "OrderLine",
    "OrderStatus",
    "OutboxMessage",
    "Product",
    "ProductImage",
    "Role",
    "User",
    "Variant",
]

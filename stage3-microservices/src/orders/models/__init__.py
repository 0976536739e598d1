"""Every table of the orders service. Importing this package registers them on `Base.metadata`."""

from orders.models.accounts import Role, User
from orders.models.base import Base
from orders.models.cart import MAX_LINE_QUANTITY, CartItem
from orders.models.orders import CANCELLABLE, UNSETTLED, Order, OrderLine, OrderStatus
from orders.models.outbox import OutboxEvent

__all__ = [
    "CANCELLABLE",
    "MAX_LINE_QUANTITY",
    "UNSETTLED",
    "Base",
    "CartItem",
    "Order",
    "OrderLine",
    "OrderStatus",
    "OutboxEvent",
    "Role",
    "User",
]

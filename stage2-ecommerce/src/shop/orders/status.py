"""The order status machine: which moves are allowed, in one table.

pending ──► paid ──► shipped ──► delivered
   │          │
   └──────────┴──► cancelled   (stock goes back on the shelf)
"""

from shop.models import OrderStatus

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


def sources_of(target: OrderStatus) -> frozenset[OrderStatus]:
    """The statuses an order may be in to move to `target`."""
    return frozenset(source for source, targets in TRANSITIONS.items() if target in targets)

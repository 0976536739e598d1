"""Every table of the catalog. Importing this package registers them all on `Base.metadata`."""

from catalog.models.base import Base
from catalog.models.catalog import Category, Product, ProductImage, Variant
from catalog.models.outbox import OutboxEvent
from catalog.models.reservations import Reservation, ReservationLine, ReservationStatus

__all__ = [
    "Base",
    "Category",
    "OutboxEvent",
    "Product",
    "ProductImage",
    "Reservation",
    "ReservationLine",
    "ReservationStatus",
    "Variant",
]

from datetime import datetime

from pydantic import BaseModel, Field

from orders.models import Order, OrderLine, OrderStatus
from orders.schemas import Money
from roadmap_shared.fields import StoredText


class ShippingAddress(BaseModel):
    name: StoredText = Field(min_length=1, max_length=100)
    line1: StoredText = Field(min_length=1, max_length=200)
    line2: StoredText = Field(default="", max_length=200)
    city: StoredText = Field(min_length=1, max_length=100)
    postal_code: StoredText = Field(min_length=1, max_length=20)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, e.g. DE")


class CheckoutRequest(BaseModel):
    shipping_address: ShippingAddress


class OrderLinePublic(BaseModel):
    variant_id: int
    quantity: int
    unit_price: Money | None = Field(description="The catalog's price; null until placed")
    line_total: Money | None


class OrderPublic(BaseModel):
    id: int
    user_id: int
    status: OrderStatus
    lines: list[OrderLinePublic]
    subtotal: Money
    tax: Money
    tax_rate_basis_points: int
    total: Money
    shipping_address: ShippingAddress
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime


def _line_public(line: OrderLine, currency: str) -> OrderLinePublic:
    def money(amount: int | None) -> Money | None:
        return None if amount is None else Money(amount=amount, currency=currency)

    return OrderLinePublic(
        variant_id=line.variant_id,
        quantity=line.quantity,
        unit_price=money(line.unit_price_amount),
        line_total=money(line.line_total_amount),
    )


def order_public(order: Order) -> OrderPublic:
    currency = order.currency
    return OrderPublic(
        id=order.id,
        user_id=order.user_id,
        status=order.status,
        lines=[_line_public(line, currency) for line in order.lines],
        subtotal=Money(amount=order.subtotal_amount, currency=currency),
        tax=Money(amount=order.tax_amount, currency=currency),
        tax_rate_basis_points=order.tax_rate_basis_points,
        total=Money(amount=order.total_amount, currency=currency),
        shipping_address=ShippingAddress.model_validate(order.shipping_address),
        failure_reason=order.failure_reason,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )

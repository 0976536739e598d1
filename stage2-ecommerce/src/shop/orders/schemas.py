from datetime import datetime

from pydantic import BaseModel, Field

from roadmap_shared.fields import StoredText
from shop.models import Order, OrderLine, OrderStatus
from shop.schemas import Money


class ShippingAddress(BaseModel):
    name: StoredText = Field(min_length=1, max_length=100)
    line1: StoredText = Field(min_length=1, max_length=200)
    line2: StoredText = Field(default="", max_length=200)
    city: StoredText = Field(min_length=1, max_length=100)
    postal_code: StoredText = Field(min_length=1, max_length=20)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, e.g. DE")


class CheckoutRequest(BaseModel):
    shipping_address: ShippingAddress


class StatusChange(BaseModel):
    status: OrderStatus


class OrderLinePublic(BaseModel):
    variant_id: int
    sku: str
    product_name: str
    variant_name: str
    unit_price: Money
    quantity: int
    line_total: Money


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
    created_at: datetime
    updated_at: datetime


def _line_public(line: OrderLine, currency: str) -> OrderLinePublic:
    return OrderLinePublic(
        variant_id=line.variant_id,
        sku=line.sku,
        product_name=line.product_name,
        variant_name=line.variant_name,
        unit_price=Money(amount=line.unit_price_amount, currency=currency),
        quantity=line.quantity,
        line_total=Money(amount=line.line_total_amount, currency=currency),
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
        created_at=order.created_at,
        updated_at=order.updated_at,
    )

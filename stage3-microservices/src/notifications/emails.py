"""The emails, built from the events alone: this service reads no other service's data,
so an event carries everything its email says (event-carried state transfer)."""

from decimal import Decimal
from email.message import EmailMessage
from uuid import UUID

from pydantic import BaseModel, EmailStr, Field

from roadmap_shared.mail import compose

# Minor units per major unit, for the currencies that do not have 100 (ISO 4217).
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "ISK"})


class OrderLine(BaseModel):
    product_name: str = Field(min_length=1, max_length=200)
    quantity: int = Field(gt=0)


class OrderPlaced(BaseModel):
    """The payload of `order.placed`, as the orders service writes it to its outbox."""

    order_id: int = Field(gt=0)
    customer_email: EmailStr
    customer_name: str = Field(default="", max_length=200)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    # In minor units (cents), as every amount in the shop.
    total_amount: int = Field(ge=0)
    lines: list[OrderLine] = Field(default_factory=list, max_length=1000)


class OrderCancelled(BaseModel):
    """The payload of `order.cancelled`, as the orders service writes it to its outbox."""

    order_id: int = Field(gt=0)
    customer_email: EmailStr
    customer_name: str = Field(default="", max_length=200)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    total_amount: int = Field(ge=0)


class StockLow(BaseModel):
    """The payload of `stock.low`, from the catalog service."""

    variant_id: int = Field(gt=0)
    sku: str = Field(min_length=1, max_length=100)
    product_name: str = Field(min_length=1, max_length=200)
    stock_left: int = Field(ge=0)


def format_amount(minor_units: int, currency: str) -> str:
    exponent = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
    return f"{Decimal(minor_units).scaleb(-exponent):.{exponent}f} {currency}"


def order_confirmation(order: OrderPlaced, *, sender: str) -> EmailMessage:
    lines = [f"  {line.quantity} x {line.product_name}" for line in order.lines]
    greeting = f"Hello {order.customer_name}," if order.customer_name else "Hello,"
    body = "\n".join(
        [
            greeting,
            "",
            f"Thank you for your order #{order.order_id}. We have received it:",
            "",
            *lines,
            "",
            f"  Total  {format_amount(order.total_amount, order.currency)}",
            "",
            "We will write again when it ships.",
        ]
    )
    return compose(
        sender=sender,
        to=[order.customer_email],
        subject=f"Your order #{order.order_id} is confirmed",
        message_id=f"order-{order.order_id}-confirmation",
        body=body,
    )


def order_cancellation(order: OrderCancelled, *, sender: str) -> EmailMessage:
    """One per cancelled order: its Message-ID comes from the order, as the confirmation's
    does, since an order is cancelled at most once."""
    greeting = f"Hello {order.customer_name}," if order.customer_name else "Hello,"
    body = "\n".join(
        [
            greeting,
            "",
            f"Your order #{order.order_id} is cancelled. Nothing will be shipped, and",
            f"its total of {format_amount(order.total_amount, order.currency)}"
            " will not be charged.",
        ]
    )
    return compose(
        sender=sender,
        to=[order.customer_email],
        subject=f"Your order #{order.order_id} is cancelled",
        message_id=f"order-{order.order_id}-cancellation",
        body=body,
    )


def low_stock_alert(
    stock: StockLow, *, event_id: UUID, admins: list[str], sender: str
) -> EmailMessage:
    """One alert per `stock.low` event. Its Message-ID comes from the event's id, not from
    the variant and the stock left: a variant restocked and sold down to the same level
    again is a new fall, and an alert with a reused Message-ID would be threaded with, or
    dropped as a duplicate of, the old one. A redelivered event keeps its id, and so its
    Message-ID."""
    body = (
        f"{stock.product_name} ({stock.sku}) is down to {stock.stock_left}.\n"
        f"Restock it: POST /admin/variants/{stock.variant_id}/stock-adjustments"
    )
    return compose(
        sender=sender,
        to=admins,
        subject=f"Low stock: {stock.sku} ({stock.stock_left} left)",
        message_id=f"low-stock-{event_id}",
        body=body,
    )

"""The emails the shop sends, built from database rows. Plain text, on purpose."""

from email.message import EmailMessage

from roadmap_shared.mail import compose
from roadmap_shared.money import format_amount
from shop.models import Order, User, Variant


def order_confirmation(order: Order, customer: User, *, sender: str) -> EmailMessage:
    lines = [
        f"  {line.quantity} x {line.product_name} ({line.variant_name}, {line.sku})"
        f"  {format_amount(line.line_total_amount, order.currency)}"
        for line in order.lines
    ]
    body = "\n".join(
        [
            f"Hello {customer.name},",
            "",
            f"Thank you for your order #{order.id}. We have received it:",
            "",
            *lines,
            "",
            f"  Subtotal  {format_amount(order.subtotal_amount, order.currency)}",
            f"  Tax       {format_amount(order.tax_amount, order.currency)}",
            f"  Total     {format_amount(order.total_amount, order.currency)}",
            "",
            "We will write again when it ships.",
        ]
    )
    return compose(
        sender=sender,
        to=[customer.email],
        subject=f"Your order #{order.id} is confirmed",
        message_id=f"order-{order.id}-confirmation",
        body=body,
    )


def low_stock_alert(
    variant: Variant, *, product_name: str, stock_left: int, admins: list[str], sender: str
) -> EmailMessage:
    body = (
        f"{product_name} ({variant.sku}) is down to {stock_left} after a sale.\n"
        f"Restock it: POST /admin/variants/{variant.id}/stock-adjustments"
    )
    return compose(
        sender=sender,
        to=admins,
        subject=f"Low stock: {variant.sku} ({stock_left} left)",
        message_id=f"low-stock-{variant.id}-{stock_left}",
        body=body,
    )

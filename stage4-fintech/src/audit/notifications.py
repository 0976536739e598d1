"""Telling the customer what became of a payment.

The events carry no personal data (see `audit.events`), so this service cannot address
anyone: it logs the notice, with the ids a delivery channel (email, push) would look the
customer up by in the payments service. The notice goes out after the record commits, so
nothing is announced that the audit log does not hold.
"""

import logging

from audit.events import (
    PAYMENT_COMPLETED,
    PAYMENT_HELD,
    PAYMENT_REJECTED,
    PaymentCompleted,
    PaymentEvent,
    PaymentHeld,
    PaymentRejected,
)

logger = logging.getLogger(__name__)

NOTIFIED = frozenset({PAYMENT_COMPLETED, PAYMENT_HELD, PAYMENT_REJECTED})


def notice(event: PaymentEvent) -> str | None:
    """What the customer is told about `event`, or None for events they are not told of."""
    match event:
        case PaymentCompleted():
            return f"payment {event.payment_id} of {event.amount} {event.currency} completed"
        case PaymentHeld():
            return f"payment {event.payment_id} held for review"
        case PaymentRejected():
            return f"payment {event.payment_id} rejected: {event.reason}"
        case _:
            return None


def notify(event: PaymentEvent) -> None:
    if (text := notice(event)) is not None:
        logger.info("notify customer %s: %s", event.customer_id, text)

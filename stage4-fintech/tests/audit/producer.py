"""A stand-in for the payments service: its events, published as its relay publishes the
rows of its outbox (a persistent message, its id the outbox row's, its type the routing
key, a JSON object for body). Publishing one message twice is what a relay does when it
dies between the broker's confirm and marking the row."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractRobustConnection

from roadmap_shared.messaging.relay import open_publisher

CUSTOMER = uuid.UUID("6f0d8a52-2b7c-4f5e-9a0e-3d1c2b4a5e6f")


def payment_requested(payment_id: uuid.UUID | None = None, **changes: Any) -> dict[str, Any]:
    return {
        "payment_id": str(payment_id or uuid.uuid4()),
        "kind": "transfer",
        "customer_id": str(CUSTOMER),
        "debit_account_id": str(uuid.uuid4()),
        "credit_account_id": str(uuid.uuid4()),
        "amount": 1250,
        "currency": "EUR",
        "occurred_at": datetime.now(UTC).isoformat(),
        **changes,
    }


def payment_completed(payment_id: uuid.UUID | None = None, **changes: Any) -> dict[str, Any]:
    return {
        "payment_id": str(payment_id or uuid.uuid4()),
        "customer_id": str(CUSTOMER),
        "amount": 1250,
        "currency": "EUR",
        "occurred_at": datetime.now(UTC).isoformat(),
        **changes,
    }


def payment_held(payment_id: uuid.UUID | None = None, **changes: Any) -> dict[str, Any]:
    return {
        "payment_id": str(payment_id or uuid.uuid4()),
        "customer_id": str(CUSTOMER),
        "rule": "amount_over_review_threshold",
        "occurred_at": datetime.now(UTC).isoformat(),
        **changes,
    }


def payment_rejected(payment_id: uuid.UUID | None = None, **changes: Any) -> dict[str, Any]:
    return {
        "payment_id": str(payment_id or uuid.uuid4()),
        "customer_id": str(CUSTOMER),
        "reason": "INSUFFICIENT_FUNDS",
        "occurred_at": datetime.now(UTC).isoformat(),
        **changes,
    }


async def publish(
    connection: AbstractRobustConnection,
    exchange: str,
    event_type: str,
    payload: dict[str, Any],
    *,
    message_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Publishes one event (confirmed by the broker); returns its message id."""
    message_id = message_id or uuid.uuid4()
    publisher = await open_publisher(connection, exchange)
    message = Message(
        body=json.dumps(payload, separators=(",", ":")).encode(),
        content_type="application/json",
        delivery_mode=DeliveryMode.PERSISTENT,
        message_id=str(message_id),
        type=event_type,
    )
    await publisher.publish(message, routing_key=event_type, mandatory=True)
    return message_id

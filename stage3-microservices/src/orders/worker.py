"""The outbox relay: `python -m orders.worker` publishes `order.placed` to RabbitMQ.

Run one beside each replica of the API (compose runs it as the worker of the orders
image); relays share the outbox safely (see roadmap_shared.messaging.relay_worker)."""

from orders.config import get_settings
from orders.models import OutboxEvent
from roadmap_shared.messaging.relay_worker import main

if __name__ == "__main__":
    settings = get_settings()
    main(
        "orders",
        settings,
        OutboxEvent,
        rabbitmq_url=settings.rabbitmq_url,
        exchange=settings.events_exchange,
        interval_seconds=settings.relay_interval_seconds,
        heartbeat=settings.relay_heartbeat,
    )

"""The outbox relay: `python -m catalog.worker` publishes `stock.low` to RabbitMQ.

Run one beside the API (compose runs it as the worker of the catalog
image); relays share the outbox safely (see roadmap_shared.messaging.relay_worker)."""

from catalog.config import get_settings
from catalog.models import OutboxEvent
from roadmap_shared.messaging.relay_worker import main

if __name__ == "__main__":
    settings = get_settings()
    main(
        "catalog",
        settings,
        OutboxEvent,
        rabbitmq_url=settings.rabbitmq_url,
        exchange=settings.events_exchange,
        interval_seconds=settings.relay_interval_seconds,
        heartbeat=settings.relay_heartbeat,
    )

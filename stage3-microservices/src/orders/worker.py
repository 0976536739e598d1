"""The worker: `python -m orders.worker` publishes `order.placed` to RabbitMQ (the outbox
relay) and settles the checkouts left unfinished (`orders.orders.settle`).

Run one beside each replica of the API (compose runs it as the worker of the orders
image); relays share the outbox safely (see roadmap_shared.messaging.relay_worker), and
settlers share the unsettled orders safely (each ending is a conditional update)."""

import argparse
import asyncio
import sys
from collections.abc import Sequence
from contextlib import suppress
from datetime import timedelta

from orders.catalog_client import CatalogClient
from orders.config import Settings, get_settings
from orders.models import OutboxEvent
from orders.orders.settle import settle_forever
from roadmap_shared import tracing
from roadmap_shared.database import Database
from roadmap_shared.logging import configure_logging
from roadmap_shared.messaging.relay_worker import is_alive, relay_until_stopped


async def work(settings: Settings) -> None:
    """The relay until SIGTERM or SIGINT, and the settler beside it until then."""
    database = Database.from_settings(settings, pool_size=1)
    tracer_provider = tracing.tracer_provider_from_settings("orders")
    catalog = CatalogClient.from_settings(settings, tracer_provider=tracer_provider)
    settler = asyncio.create_task(
        settle_forever(
            database,
            catalog,
            older_than=timedelta(seconds=settings.settle_after_seconds),
            interval_seconds=settings.settle_interval_seconds,
        )
    )
    try:
        await relay_until_stopped(
            settings,
            OutboxEvent,
            rabbitmq_url=settings.rabbitmq_url,
            exchange=settings.events_exchange,
            interval_seconds=settings.relay_interval_seconds,
            heartbeat=settings.relay_heartbeat,
            tracer_provider=tracer_provider,
        )
    finally:
        # Cancelled mid-order, a settler loses nothing: each step is a transaction, and
        # every call to the catalog may be repeated by the next worker.
        settler.cancel()
        with suppress(asyncio.CancelledError):
            await settler
        await catalog.aclose()
        await database.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog="python -m orders.worker",
        description="Relays the orders outbox to RabbitMQ, and settles unfinished checkouts.",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 0 if the relay finished a pass lately"
    )
    if parser.parse_args(argv).check:
        sys.exit(0 if is_alive(settings.relay_heartbeat) else 1)
    configure_logging(settings.log_level)
    asyncio.run(work(settings))


if __name__ == "__main__":
    main()

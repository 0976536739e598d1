"""The worker: `python -m payments.worker` publishes the outbox to RabbitMQ (the relay),
runs the fraud check on `payment.requested` (the consumer) and reconciles the payments
left `pending` or `new` (payments.reconcile), until SIGTERM or SIGINT. It serves its
metrics on `PAYMENTS_WORKER_METRICS_PORT` (roadmap_shared.metrics_server).

Run one beside each replica of the API: relays share the outbox safely (see
roadmap_shared.messaging.relay_worker), consumers share the queue, and reconcilers share
the stuck payments (each ending is a conditional update)."""

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from payments.config import Settings, get_settings
from payments.fraud.consumer import FraudCheck, subscription
from payments.ledger_client import LedgerClient
from payments.models import OutboxEvent, ProcessedMessage
from payments.reconcile import reconcile_forever
from roadmap_shared import tracing
from roadmap_shared.database import Database
from roadmap_shared.logging import configure_logging
from roadmap_shared.messaging import Consumer
from roadmap_shared.messaging.relay_worker import is_alive, relay_until_stopped
from roadmap_shared.metrics_server import metrics_served

SERVICE_NAME = "payments"


@asynccontextmanager
async def fraud_checking(
    settings: Settings,
    database: Database,
    ledger: LedgerClient,
    *,
    tracer_provider: tracing.TracerProvider | None = None,
) -> AsyncIterator[Consumer]:
    """Runs the fraud check while the block runs."""
    consumer = Consumer(
        subscription(settings),
        FraudCheck(settings, ledger).handlers(),
        database.sessionmaker,
        ProcessedMessage,
        tracer_provider=tracer_provider,
    )
    async with consumer.running(settings.rabbitmq_url):
        yield consumer


async def work(settings: Settings) -> None:
    with metrics_served(settings.host, settings.worker_metrics_port):
        await _work(settings)


async def _work(settings: Settings) -> None:
    database = Database.from_settings(settings, pool_size=2)
    ledger = LedgerClient(settings)
    tracer_provider = tracing.tracer_provider_from_settings(SERVICE_NAME)
    reconciler = asyncio.create_task(
        reconcile_forever(
            database,
            ledger,
            FraudCheck(settings, ledger),
            older_than=timedelta(seconds=settings.reconcile_after_seconds),
            interval_seconds=settings.reconcile_interval_seconds,
        )
    )
    try:
        async with fraud_checking(settings, database, ledger, tracer_provider=tracer_provider):
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
        # Cancelled mid-payment, a reconciler loses nothing: each ending is a transaction,
        # and every call to the ledger may be repeated by the next pass.
        reconciler.cancel()
        with suppress(asyncio.CancelledError):
            await reconciler
        await ledger.aclose()
        await database.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog="python -m payments.worker",
        description=(
            "Relays the payments outbox to RabbitMQ, runs the fraud check and reconciles "
            "stuck payments."
        ),
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

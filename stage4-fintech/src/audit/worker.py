"""The consumer: `python -m audit.worker` (or `python -m audit`) runs it until SIGTERM or
SIGINT.

It serves `/healthz`, `/readyz` and `/metrics` on `port` as well (the orchestrator's
probes, Prometheus), from the same event loop: the consumer starts in the app's lifespan
(`audit.main`) and stops before the database closes, so a message in flight at shutdown
is either committed and acked or handed back.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aio_pika.abc import AbstractRobustConnection

from audit.config import Settings
from audit.handlers import Auditor
from audit.models import ProcessedMessage
from roadmap_shared import tracing
from roadmap_shared.database import Database
from roadmap_shared.messaging import Consumer, Subscription
from roadmap_shared.serve import run_stage


def subscription(settings: Settings) -> Subscription:
    return Subscription(
        name=settings.consumer_name,
        event_types=Auditor.EVENT_TYPES,
        exchange=settings.events_exchange,
        retry_delays_seconds=tuple(settings.retry_delays_seconds),
        prefetch=settings.prefetch,
    )


@asynccontextmanager
async def consuming(
    settings: Settings,
    database: Database,
    *,
    tracer_provider: tracing.TracerProvider | None = None,
) -> AsyncIterator[AbstractRobustConnection]:
    """Consumes the payment events while the block runs; yields the broker connection."""
    consumer = Consumer(
        subscription(settings),
        Auditor().handlers(),
        database.sessionmaker,
        ProcessedMessage,
        tracer_provider=tracer_provider,
    )
    async with consumer.running(settings.rabbitmq_url) as connection:
        yield connection


if __name__ == "__main__":
    run_stage("audit")

"""The consumer process: `python -m notifications` runs it until SIGTERM or SIGINT.

It serves `/healthz` and `/readyz` on `port` as well (the orchestrator's probes), from the
same event loop: the consumer starts in the app's lifespan and stops before the database
closes, so a message in flight at shutdown is either committed and acked or handed back.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aio_pika.abc import AbstractRobustConnection

from notifications.config import Settings
from notifications.handlers import Notifier
from notifications.models import ProcessedMessage
from roadmap_shared import tracing
from roadmap_shared.database import Database
from roadmap_shared.mail import Mailer
from roadmap_shared.messaging import Consumer, Subscription
from roadmap_shared.smtp import build_mailer


def subscription(settings: Settings) -> Subscription:
    return Subscription(
        name=settings.consumer_name,
        event_types=tuple(Notifier.EVENT_TYPES),
        exchange=settings.events_exchange,
        retry_delays_seconds=tuple(settings.retry_delays_seconds),
        prefetch=settings.prefetch,
    )


@asynccontextmanager
async def consuming(
    settings: Settings,
    database: Database,
    mailer: Mailer | None = None,
    *,
    tracer_provider: tracing.TracerProvider | None = None,
) -> AsyncIterator[AbstractRobustConnection]:
    """Consumes the service's events while the block runs; yields the broker connection.
    Each message is handled in a span, a child of the one that published it."""
    notifier = Notifier(
        settings,
        mailer or build_mailer(settings),
        tracer=tracing.get_tracer(__name__, tracer_provider),
    )
    consumer = Consumer(
        subscription(settings),
        notifier.handlers(),
        database.sessionmaker,
        ProcessedMessage,
        tracer_provider=tracer_provider,
    )
    async with consumer.running(settings.rabbitmq_url) as connection:
        yield connection

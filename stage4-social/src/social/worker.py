"""The worker: `python -m social.worker` publishes the outbox to RabbitMQ (the relay) and
fans each new post out into its readers' home timelines (the consumer), until SIGTERM or
SIGINT.

Run as many as the fan-out needs: relays share the outbox safely (see
roadmap_shared.messaging.relay_worker), consumers share the queue, and a post fanned out
twice is still one entry per timeline."""

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from roadmap_shared import tracing
from roadmap_shared.database import Database
from roadmap_shared.logging import configure_logging
from roadmap_shared.messaging import Consumer
from roadmap_shared.messaging.relay_worker import is_alive, relay_until_stopped
from roadmap_shared.resources import REDIS_TIMEOUT_SECONDS
from social.config import Settings, get_settings
from social.models import OutboxEvent, ProcessedMessage
from social.timelines.fanout import FanOut, subscription
from social.timelines.store import TimelineStore

SERVICE_NAME = "social"


@asynccontextmanager
async def fanning_out(
    settings: Settings,
    database: Database,
    store: TimelineStore,
    *,
    tracer_provider: tracing.TracerProvider | None = None,
) -> AsyncIterator[Consumer]:
    """Runs the fan-out consumer while the block runs."""
    consumer = Consumer(
        subscription(settings),
        FanOut(store).handlers(),
        database.sessionmaker,
        ProcessedMessage,
        tracer_provider=tracer_provider,
    )
    async with consumer.running(settings.rabbitmq_url):
        yield consumer


async def work(settings: Settings) -> None:
    database = Database.from_settings(settings, pool_size=2)
    redis = Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    store = TimelineStore(
        redis, length=settings.timeline_length, ttl_seconds=settings.timeline_ttl_seconds
    )
    tracer_provider = tracing.tracer_provider_from_settings(SERVICE_NAME)
    try:
        async with fanning_out(settings, database, store, tracer_provider=tracer_provider):
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
        await redis.aclose()
        await database.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog="python -m social.worker",
        description="Relays the outbox to RabbitMQ and fans new posts out into timelines.",
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

"""A service's relay as a process of its own: `python -m <service>.worker`.

It runs `Relay` until SIGTERM or SIGINT, on a robust connection (a broker restart is a
pause, not a crash). Every replica of a service may run one: the relay's `SKIP LOCKED`
hands each the rows no other holds. `--check` is the container health check: it exits 0
if the relay finished a pass lately (it touches a heartbeat file after every pass).
"""

import argparse
import asyncio
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from aio_pika import connect_robust

from roadmap_shared import tracing
from roadmap_shared.database import Database
from roadmap_shared.logging import configure_logging
from roadmap_shared.messaging.models import OutboxEventMixin
from roadmap_shared.messaging.relay import Relay
from roadmap_shared.settings import DatabaseSettings

# A relay that has not finished a pass for this long is stuck (its database or broker
# calls hang): the orchestrator restarts it.
HEARTBEAT_STALE_SECONDS = 60.0


async def relay_until_stopped(
    settings: DatabaseSettings,
    model: type[OutboxEventMixin],
    *,
    rabbitmq_url: str,
    exchange: str,
    interval_seconds: float,
    heartbeat: Path | None = None,
    tracer_provider: tracing.TracerProvider | None = None,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if heartbeat is not None:
        heartbeat.parent.mkdir(parents=True, exist_ok=True)
    database = Database.from_settings(settings, pool_size=1)
    connection = await connect_robust(rabbitmq_url)
    try:
        relay = Relay(
            database.sessionmaker,
            model,
            exchange=exchange,
            interval_seconds=interval_seconds,
            after_pass=heartbeat.touch if heartbeat is not None else None,
            tracer_provider=tracer_provider,
        )
        await relay.run(connection, stop)
    finally:
        await connection.close()
        await database.dispose()


def is_alive(heartbeat: Path) -> bool:
    try:
        return time.time() - heartbeat.stat().st_mtime < HEARTBEAT_STALE_SECONDS
    except FileNotFoundError:
        return False


def main(
    package: str,
    settings: DatabaseSettings,
    model: type[OutboxEventMixin],
    *,
    rabbitmq_url: str,
    exchange: str,
    interval_seconds: float,
    heartbeat: Path,
    argv: Sequence[str] | None = None,
) -> None:
    parser = argparse.ArgumentParser(
        prog=f"python -m {package}.worker", description=f"Relays {package}'s outbox to RabbitMQ."
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 0 if a relay finished a pass lately"
    )
    if parser.parse_args(argv).check:
        sys.exit(0 if is_alive(heartbeat) else 1)
    configure_logging(settings.log_level)
    asyncio.run(
        relay_until_stopped(
            settings,
            model,
            rabbitmq_url=rabbitmq_url,
            exchange=exchange,
            interval_seconds=interval_seconds,
            heartbeat=heartbeat,
            # The relay is part of its service: its spans carry the service's name.
            tracer_provider=tracing.tracer_provider_from_settings(package),
        )
    )

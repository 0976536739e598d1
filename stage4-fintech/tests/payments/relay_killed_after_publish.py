"""The payments relay, killed (SIGKILL, by itself) right after the broker confirmed its
first publish and before its transaction could mark the row: the crash the outbox must
survive (see test_relay_crash.py)."""

import asyncio
import os
import signal

from aio_pika import connect_robust
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from payments.models import OutboxEvent
from roadmap_shared.messaging import publish_pending
from roadmap_shared.messaging.models import OutboxEventMixin
from roadmap_shared.messaging.relay import open_publisher


async def die(_: OutboxEventMixin) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


async def main() -> None:
    engine = create_async_engine(os.environ["RELAY_DATABASE_URL"])
    connection = await connect_robust(os.environ["RELAY_RABBITMQ_URL"])
    exchange = await open_publisher(connection, os.environ["RELAY_EXCHANGE"])
    async with async_sessionmaker(engine).begin() as session:
        await publish_pending(session, exchange, OutboxEvent, after_publish=die)


if __name__ == "__main__":
    asyncio.run(main())

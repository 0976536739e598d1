"""Fixtures of the messaging tests: a database with their tables, and RabbitMQ names of
each test's own (see `roadmap_shared.testing.messaging`)."""

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from aio_pika.abc import AbstractRobustConnection
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from roadmap_shared.messaging import Subscription
from roadmap_shared.testing.databases import create_database, drop_database
from roadmap_shared.testing.messaging import topology_removed_after, unique_subscription
from tests.messaging_models import Base


@pytest.fixture(scope="session")
def messaging_database_url(postgres_url: str) -> Iterator[str]:
    url = create_database(postgres_url, "test_shared_messaging")
    try:
        yield url
    finally:
        drop_database(postgres_url, url)


@pytest_asyncio.fixture(scope="session")
async def messaging_engine(messaging_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(messaging_database_url, pool_size=20)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture
async def sessions(
    messaging_engine: AsyncEngine,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions that commit for real (relays and consumers run in other transactions);
    the tables are emptied after the test."""
    yield async_sessionmaker(messaging_engine, expire_on_commit=False)
    async with messaging_engine.begin() as connection:
        await connection.execute(
            text("TRUNCATE outbox_events, processed_messages, effects RESTART IDENTITY")
        )


@pytest.fixture
def subscription() -> Subscription:
    return unique_subscription("consumer", ["thing.happened"])


@pytest_asyncio.fixture
async def amqp(
    rabbitmq_url: str, subscription: Subscription
) -> AsyncIterator[AbstractRobustConnection]:
    """A connection to the broker; the test's queues and exchanges are deleted afterwards."""
    async with topology_removed_after(rabbitmq_url, subscription) as connection:
        yield connection

"""The audit service's tests: its own database, migrated with its own Alembic config
(src/audit/alembic.ini), and a real RabbitMQ with names of each test's own. The tests
publish the payments service's events themselves, as its relay does (`producer.py`)."""

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aio_pika.abc import AbstractRobustConnection
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from audit.config import Settings
from audit.worker import subscription as subscription_of
from roadmap_shared.messaging import Subscription
from roadmap_shared.testing.factories import settings_for_tests
from roadmap_shared.testing.messaging import (
    TEST_RETRY_DELAYS_SECONDS,
    topology_removed_after,
    unique_subscription,
)
from roadmap_shared.testing.plugin import service_database

alembic_ini, database_url, db_engine = service_database("src/audit/alembic.ini")


@pytest_asyncio.fixture
async def sessions(db_engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions that commit, as the consumer's do; the chain is emptied after the test,
    the one way the triggers allow: by disabling them, as a superuser."""
    yield async_sessionmaker(db_engine, expire_on_commit=False)
    async with db_engine.begin() as connection:
        await connection.execute(text("ALTER TABLE audit_records DISABLE TRIGGER USER"))
        await connection.execute(text("TRUNCATE audit_records, processed_messages"))
        await connection.execute(text("ALTER TABLE audit_records ENABLE TRIGGER USER"))


@pytest.fixture
def names() -> Subscription:
    """A queue name and an exchange of this test's own."""
    return unique_subscription("audit", [])


@pytest.fixture
def settings(
    database_url: str,
    rabbitmq_url: str,
    names: Subscription,
    sessions: async_sessionmaker[AsyncSession],
) -> Settings:
    return settings_for_tests(
        Settings,
        database_url=database_url,
        rabbitmq_url=rabbitmq_url,
        events_exchange=names.exchange,
        consumer_name=names.name,
        retry_delays_seconds=list(TEST_RETRY_DELAYS_SECONDS),
    )


@pytest.fixture
def subscription(settings: Settings) -> Subscription:
    return subscription_of(settings)


@pytest_asyncio.fixture
async def amqp(
    rabbitmq_url: str, subscription: Subscription
) -> AsyncIterator[AbstractRobustConnection]:
    """The test's own connection; the service's queues are deleted after the test."""
    async with topology_removed_after(rabbitmq_url, subscription) as connection:
        yield connection

"""The notifications service's tests: its own database, migrated with its own Alembic
config (src/notifications/alembic.ini), a real RabbitMQ with names of each test's own, and
a real SMTP server (aiosmtpd) as the mail server. A stand-in for the orders service writes
events to an outbox table of its own database and publishes them with the shared relay."""

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

from notifications.config import Settings
from notifications.worker import subscription as subscription_of
from roadmap_shared.messaging import Subscription
from roadmap_shared.testing.databases import create_database, drop_database
from roadmap_shared.testing.factories import settings_for_tests
from roadmap_shared.testing.mail_server import Mailbox, smtp_server
from roadmap_shared.testing.messaging import (
    TEST_RETRY_DELAYS_SECONDS,
    topology_removed_after,
    unique_subscription,
)
from roadmap_shared.testing.plugin import service_database
from tests.notifications.producer import OrdersBase

alembic_ini, database_url, db_engine = service_database("src/notifications/alembic.ini")
ADMINS = ["admins@shop.test"]


@pytest_asyncio.fixture
async def clean_tables(db_engine: AsyncEngine) -> AsyncIterator[None]:
    yield
    async with db_engine.begin() as connection:
        await connection.execute(text("TRUNCATE processed_messages, sent_emails RESTART IDENTITY"))


@pytest.fixture(scope="session")
def orders_database_url(postgres_url: str) -> Iterator[str]:
    """The stand-in orders service's database: only its outbox table."""
    url = create_database(postgres_url, "test_notifications_orders")
    try:
        yield url
    finally:
        drop_database(postgres_url, url)


@pytest_asyncio.fixture(scope="session")
async def orders_engine(orders_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(orders_database_url)
    async with engine.begin() as connection:
        await connection.run_sync(OrdersBase.metadata.create_all)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture
async def orders_sessions(
    orders_engine: AsyncEngine,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    yield async_sessionmaker(orders_engine, expire_on_commit=False)
    async with orders_engine.begin() as connection:
        await connection.execute(text("TRUNCATE outbox_events RESTART IDENTITY"))


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def smtp_port(mailbox: Mailbox) -> Iterator[int]:
    with smtp_server(mailbox) as port:
        yield port


@pytest.fixture
def names() -> Subscription:
    """A queue name and an exchange of this test's own."""
    return unique_subscription("notifications", [])


@pytest.fixture
def settings(
    database_url: str, rabbitmq_url: str, smtp_port: int, names: Subscription, clean_tables: None
) -> Settings:
    return settings_for_tests(
        Settings,
        database_url=database_url,
        rabbitmq_url=rabbitmq_url,
        events_exchange=names.exchange,
        consumer_name=names.name,
        retry_delays_seconds=list(TEST_RETRY_DELAYS_SECONDS),
        admin_emails=ADMINS,
        mail_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_security="none",
        mail_from="Shop <orders@shop.test>",
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

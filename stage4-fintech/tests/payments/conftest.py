"""The payments service's tests run against a real ledger: its gRPC server on a loopback
port, with a database of its own, started here. Nothing of the ledger is faked; the
payments service reaches it only over gRPC, as in production. RabbitMQ is real too, with
an exchange and queues of each test's own."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from aio_pika.abc import AbstractQueue, AbstractRobustConnection
from fastapi import FastAPI
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from ledger.config import Settings as LedgerSettings
from ledger.rpc.server import start_grpc_server
from payments.config import Settings
from payments.fraud.consumer import subscription as fraud_subscription
from payments.ledger_client import LedgerClient
from payments.main import create_app
from payments.models import Customer, Role
from roadmap_shared.database import Database
from roadmap_shared.messaging import Subscription
from roadmap_shared.messaging.topology import declare_exchange
from roadmap_shared.security.public_keys import generate_private_key_pem
from roadmap_shared.testing.databases import migrated_database
from roadmap_shared.testing.factories import settings_for_tests
from roadmap_shared.testing.messaging import (
    TEST_RETRY_DELAYS_SECONDS,
    topology_removed_after,
    unique_subscription,
)
from roadmap_shared.testing.plugin import service_database
from tests.payments.factories import auth, make_customer

alembic_ini, database_url, db_engine = service_database("src/payments/alembic.ini")

SIGNING_KEY = generate_private_key_pem()

LEDGER_ALEMBIC_INI = Path(__file__).parents[2] / "src/ledger/alembic.ini"


@pytest.fixture(scope="session")
def ledger_database_url(postgres_url: str) -> Iterator[str]:
    with migrated_database(postgres_url, "test_fintech_payments_ledger", LEDGER_ALEMBIC_INI) as url:
        yield url


@pytest_asyncio.fixture(scope="session")
async def ledger_address(ledger_database_url: str) -> AsyncIterator[str]:
    """The ledger's real gRPC server, for the whole run. Its data stays between tests:
    each test opens wallets of its own (new customers), so none sees another's money."""
    settings = settings_for_tests(LedgerSettings, database_url=ledger_database_url, grpc_port=0)
    engine = create_async_engine(ledger_database_url)
    server, port = await start_grpc_server(settings, engine)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(grace=None)
        await engine.dispose()


@pytest.fixture
def names() -> Subscription:
    """An exchange and a queue name of this test's own."""
    return unique_subscription("payments", [])


def payments_settings(**values: object) -> Settings:
    return settings_for_tests(
        Settings,
        **{
            "jwt_private_keys": {"test": SecretStr(SIGNING_KEY)},
            "jwt_active_kid": "test",
            "ledger_timeout_seconds": 1.0,
            "ledger_backoff_seconds": 0.01,
            "retry_delays_seconds": list(TEST_RETRY_DELAYS_SECONDS),
            "relay_interval_seconds": 0.05,
            **values,
        },
    )


@pytest.fixture
def fraud_thresholds() -> dict[str, int]:
    """The fraud check's settings a test module needs other than the defaults: a module
    overrides this fixture, never `settings` itself."""
    return {}


@pytest.fixture
def settings(
    *,
    database_url: str,
    redis_url: str,
    rabbitmq_url: str,
    ledger_address: str,
    names: Subscription,
    fraud_thresholds: dict[str, int],
) -> Settings:
    return payments_settings(
        database_url=database_url,
        redis_url=redis_url,
        rabbitmq_url=rabbitmq_url,
        ledger_address=ledger_address,
        events_exchange=names.exchange,
        consumer_name=names.name,
        **fraud_thresholds,
    )


@pytest.fixture
def app(settings: Settings, redis_client: Redis) -> FastAPI:
    return create_app(settings)


@pytest_asyncio.fixture
async def ledger(settings: Settings) -> AsyncIterator[LedgerClient]:
    """The service's own client of the ledger, for the tests to look at balances."""
    client = LedgerClient(settings)
    yield client
    await client.aclose()


@pytest_asyncio.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    """A `Database` of the service's, as the worker opens one."""
    database = Database.from_settings(settings, pool_size=2)
    yield database
    await database.dispose()


@pytest_asyncio.fixture
async def amqp(rabbitmq_url: str, settings: Settings) -> AsyncIterator[AbstractRobustConnection]:
    """The test's own connection; the fraud check's queues are deleted after the test."""
    async with topology_removed_after(rabbitmq_url, fraud_subscription(settings)) as connection:
        yield connection


@pytest_asyncio.fixture
async def audit_queue(amqp: AbstractRobustConnection, settings: Settings) -> AbstractQueue:
    """A stand-in for the audit service: a queue of the test's own bound to every payment
    event. Without a queue bound for it, an event would be unroutable and stay in the
    outbox (the relay publishes with `mandatory`), holding back the ones behind it."""
    channel = await amqp.channel()
    exchange = await declare_exchange(channel, settings.events_exchange)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, routing_key="payment.#")
    return queue


@pytest.fixture
async def alice(committed_session: AsyncSession) -> Customer:
    return await make_customer(committed_session, "alice")


@pytest.fixture
async def bob(committed_session: AsyncSession) -> Customer:
    return await make_customer(committed_session, "bob")


@pytest.fixture
async def reviewer(committed_session: AsyncSession) -> Customer:
    return await make_customer(committed_session, "reviewer", role=Role.STAFF)


@pytest.fixture
def alice_auth(settings: Settings, alice: Customer) -> dict[str, str]:
    return auth(settings, alice)


@pytest.fixture
def bob_auth(settings: Settings, bob: Customer) -> dict[str, str]:
    return auth(settings, bob)


@pytest.fixture
def reviewer_auth(settings: Settings, reviewer: Customer) -> dict[str, str]:
    return auth(settings, reviewer)

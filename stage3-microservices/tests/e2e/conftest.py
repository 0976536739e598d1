"""The whole stage as processes on loopback: the catalog, two instances of orders and the
gateway (Debian's nginx, with the compose file's config), each service with a database of
its own on the test PostgreSQL; the relays of catalog and orders (one per instance) and
notifications, on the test RabbitMQ under an exchange and queue names of this run's own,
sending email to an SMTP server in the test (aiosmtpd). Tests talk to the gateway only,
as a client would, and read what the customer would: their mailbox."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from roadmap_shared.messaging import Subscription
from roadmap_shared.security.public_keys import generate_private_key_pem
from roadmap_shared.testing.databases import migrated_database
from roadmap_shared.testing.mail_server import Mailbox, smtp_server
from roadmap_shared.testing.messaging import topology_removed_after, unique_subscription
from roadmap_shared.testing.private_servers import free_port
from roadmap_shared.testing.tools import required_program
from tests.e2e.processes import GATEWAY_CONFIG, STAGE, Service, gateway

CATALOG_INI = STAGE / "src/catalog/alembic.ini"
ORDERS_INI = STAGE / "src/orders/alembic.ini"
NOTIFICATIONS_INI = STAGE / "src/notifications/alembic.ini"
ADMIN_EMAIL = "admins@shop.test"
# The relays look for new outbox rows this often: a checkout's email follows within it.
RELAY_INTERVAL_SECONDS = 0.2
CATALOG_TABLES = "outbox_events, reservations, variants, products, categories"
ORDERS_TABLES = "outbox_events, order_lines, orders, cart_items, users"
SIGNING_KEY = generate_private_key_pem()
BREAKER_COOLDOWN_SECONDS = 1


def relay(package: str, environment: dict[str, str], directory: Path, name: str) -> Service:
    """The outbox relay of `package` (`python -m <package>.worker`)."""
    heartbeat = directory / f"{name}.heartbeat"
    prefix = package.upper()
    return Service(
        package,
        {
            **environment,
            f"{prefix}_RELAY_HEARTBEAT": str(heartbeat),
            f"{prefix}_RELAY_INTERVAL_SECONDS": str(RELAY_INTERVAL_SECONDS),
        },
        module=f"{package}.worker",
        heartbeat=heartbeat,
    )


def nginx_binary() -> str:
    return required_program("nginx", install="apt-get install nginx")


@dataclass
class Shop:
    gateway: str
    catalog: Service
    orders: list[Service]
    notifications: Service
    catalog_database_url: str
    orders_database_url: str
    mailbox: Mailbox
    events: Subscription  # notifications' queue names and the exchange of this run

    def emails_to(self, address: str) -> list[EmailMessage]:
        return [mail.message for mail in self.mailbox.received if address in mail.rcpt_tos]


# Once per run: starting nine processes takes a while on a busy machine.
@pytest.fixture(scope="session")
def shop(
    postgres_url: str, redis_url: str, rabbitmq_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shop]:
    binary = nginx_binary()
    directory = tmp_path_factory.mktemp("gateway")
    mailbox = Mailbox()
    events = unique_subscription("e2e-notifications", [])
    with (
        migrated_database(postgres_url, "test_ms_e2e_catalog", CATALOG_INI) as catalog_db,
        migrated_database(postgres_url, "test_ms_e2e_orders", ORDERS_INI) as orders_db,
        migrated_database(
            postgres_url, "test_ms_e2e_notifications", NOTIFICATIONS_INI
        ) as notifications_db,
        smtp_server(mailbox) as smtp_port,
        topology_deleted_after(rabbitmq_url, events),
    ):
        orders_ports = [free_port(), free_port()]
        catalog_environment = {
            "CATALOG_ENVIRONMENT": "test",
            "CATALOG_DATABASE_URL": catalog_db,
            "CATALOG_REDIS_URL": redis_url,
            "CATALOG_CACHE_TTL_SECONDS": "0",
            "CATALOG_MEDIA_DIR": str(directory / "media"),
            "CATALOG_JWKS_URL": f"http://127.0.0.1:{orders_ports[0]}/.well-known/jwks.json",
            "CATALOG_RABBITMQ_URL": rabbitmq_url,
            "CATALOG_EVENTS_EXCHANGE": events.exchange,
        }
        catalog = Service("catalog", catalog_environment)
        orders_environment = {
            "ORDERS_ENVIRONMENT": "test",
            "ORDERS_DATABASE_URL": orders_db,
            "ORDERS_REDIS_URL": redis_url,
            "ORDERS_JWT_PRIVATE_KEYS": json.dumps({"e2e": SIGNING_KEY}),
            "ORDERS_JWT_ACTIVE_KID": "e2e",
            "ORDERS_CATALOG_URL": f"http://{catalog.address}",
            # Fifty reservations of one variant queue for its row lock, one after
            # another: on a busy two-core machine the last waits seconds. The
            # outage test is not slowed by it: a stopped catalog refuses at once.
            "ORDERS_CATALOG_TIMEOUT_SECONDS": "15",
            # Longer than such a checkout's calls can take (the settings insist): the
            # workers' settlers never touch a checkout still running.
            "ORDERS_SETTLE_AFTER_SECONDS": "120",
            "ORDERS_CATALOG_BREAKER_COOLDOWN_SECONDS": str(BREAKER_COOLDOWN_SECONDS),
            "ORDERS_LOGIN_ATTEMPTS_PER_MINUTE": "1000",
            "ORDERS_RABBITMQ_URL": rabbitmq_url,
            "ORDERS_EVENTS_EXCHANGE": events.exchange,
        }
        orders = [Service("orders", orders_environment, port=port) for port in orders_ports]
        notifications = Service(
            "notifications",
            {
                "NOTIFICATIONS_ENVIRONMENT": "test",
                "NOTIFICATIONS_DATABASE_URL": notifications_db,
                "NOTIFICATIONS_RABBITMQ_URL": rabbitmq_url,
                "NOTIFICATIONS_EVENTS_EXCHANGE": events.exchange,
                "NOTIFICATIONS_CONSUMER_NAME": events.name,
                "NOTIFICATIONS_RETRY_DELAYS_SECONDS": json.dumps(events.retry_delays_seconds),
                "NOTIFICATIONS_ADMIN_EMAILS": json.dumps([ADMIN_EMAIL]),
                "NOTIFICATIONS_MAIL_BACKEND": "smtp",
                "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
                "NOTIFICATIONS_SMTP_PORT": str(smtp_port),
                "NOTIFICATIONS_SMTP_SECURITY": "none",
            },
        )
        # One relay per orders instance, as compose runs them: they share one outbox.
        relays = [
            relay("orders", orders_environment, directory, "orders-relay-a"),
            relay("orders", orders_environment, directory, "orders-relay-b"),
            relay("catalog", catalog_environment, directory, "catalog-relay"),
        ]
        services = [*orders, catalog, notifications, *relays]
        try:
            # All at once: each takes seconds to import. None needs another to start (a
            # relay holds its events until notifications has declared its queue).
            for service in services:
                service.launch()
            for service in services:
                service.wait_until_ready()
            with gateway(
                binary,
                GATEWAY_CONFIG.read_text(),
                port=free_port(),
                upstreams={
                    "catalog": [catalog.address],
                    "orders": [instance.address for instance in orders],
                },
                directory=directory,
            ) as gateway_url:
                yield Shop(
                    gateway_url,
                    catalog,
                    orders,
                    notifications,
                    catalog_db,
                    orders_db,
                    mailbox,
                    events,
                )
        finally:
            for service in services:
                service.stop()


@contextlib.contextmanager
def topology_deleted_after(rabbitmq_url: str, subscription: Subscription) -> Iterator[None]:
    """The run's queues and exchange are removed from the shared broker at the end."""
    try:
        yield
    finally:

        async def delete() -> None:
            async with topology_removed_after(rabbitmq_url, subscription):
                pass

        asyncio.run(delete())


@pytest.fixture
async def catalog_db(shop: Shop) -> AsyncIterator[AsyncSession]:
    """The catalog's database, for setting up stock and checking it; emptied afterwards,
    with the orders database (order ids restart, and name reservations)."""
    catalog = create_async_engine(shop.catalog_database_url)
    orders = create_async_engine(shop.orders_database_url)
    try:
        async with AsyncSession(catalog, expire_on_commit=False) as session:
            yield session
    finally:
        async with catalog.begin() as connection:
            await connection.execute(text(f"TRUNCATE {CATALOG_TABLES} RESTART IDENTITY CASCADE"))
        async with orders.begin() as connection:
            await connection.execute(text(f"TRUNCATE {ORDERS_TABLES} RESTART IDENTITY CASCADE"))
        await catalog.dispose()
        await orders.dispose()

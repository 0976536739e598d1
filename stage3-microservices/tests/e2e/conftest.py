"""The whole stage as processes on loopback: the catalog, two instances of orders and the
gateway (Debian's nginx, with the compose file's config), each service with a database of
its own on the test PostgreSQL. Tests talk to the gateway only, as a client would."""

import json
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from roadmap_shared.security.public_keys import generate_private_key_pem
from roadmap_shared.testing.databases import migrated_database
from roadmap_shared.testing.private_servers import free_port
from tests.e2e.processes import GATEWAY_CONFIG, STAGE, Service, find_nginx, gateway

CATALOG_INI = STAGE / "src/catalog/alembic.ini"
ORDERS_INI = STAGE / "src/orders/alembic.ini"
CATALOG_TABLES = "reservations, variants, products, categories"
ORDERS_TABLES = "outbox_messages, order_lines, orders, cart_items, users"
SIGNING_KEY = generate_private_key_pem()
BREAKER_COOLDOWN_SECONDS = 1


def nginx_binary() -> str:
    binary = find_nginx()
    if binary is None:
        message = "nginx is not installed (apt-get install nginx)"
        if os.environ.get("CI"):
            pytest.fail(message)  # in CI a missing tool must not pass as green
        pytest.skip(message)
    return binary


@dataclass
class Shop:
    gateway: str
    catalog: Service
    orders: list[Service]
    catalog_database_url: str
    orders_database_url: str


@pytest.fixture(scope="module")
def shop(
    postgres_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shop]:
    binary = nginx_binary()
    directory = tmp_path_factory.mktemp("gateway")
    with (
        migrated_database(
            postgres_url, "test_ms_e2e_catalog", STAGE / "src/catalog/alembic.ini"
        ) as catalog_db,
        migrated_database(
            postgres_url, "test_ms_e2e_orders", STAGE / "src/orders/alembic.ini"
        ) as orders_db,
    ):
        orders_ports = [free_port(), free_port()]
        catalog = Service(
            "catalog",
            {
                "CATALOG_ENVIRONMENT": "test",
                "CATALOG_DATABASE_URL": catalog_db,
                "CATALOG_REDIS_URL": redis_url,
                "CATALOG_CACHE_TTL_SECONDS": "0",
                "CATALOG_MEDIA_DIR": str(directory / "media"),
                "CATALOG_JWKS_URL": f"http://127.0.0.1:{orders_ports[0]}/.well-known/jwks.json",
            },
        )
        orders = [
            Service(
                "orders",
                {
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
                    "ORDERS_CATALOG_BREAKER_COOLDOWN_SECONDS": str(BREAKER_COOLDOWN_SECONDS),
                    "ORDERS_LOGIN_ATTEMPTS_PER_MINUTE": "1000",
                },
                port=port,
            )
            for port in orders_ports
        ]
        try:
            for service in [*orders, catalog]:
                service.start()
            with gateway(
                binary,
                GATEWAY_CONFIG.read_text(),
                port=free_port(),
                upstreams={
                    "catalog": [catalog.address],
                    "orders": [instance.address for instance in orders],
                },
                directory=directory,
            ) as url:
                yield Shop(url, catalog, orders, catalog_db, orders_db)
        finally:
            for service in [catalog, *orders]:
                service.stop()


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

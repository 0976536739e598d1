"""The orders service's tests run against a real catalog service: uvicorn on a loopback
port, with a database of its own, verifying the orders service's tokens from a JWKS
served on another port. Nothing of the catalog is faked."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from catalog.config import Settings as CatalogSettings
from catalog.main import create_app as create_catalog_app
from orders.catalog_client import CatalogClient
from orders.config import Settings
from orders.main import create_app
from orders.models import User
from roadmap_shared.database import Database
from roadmap_shared.security.public_keys import JWKS_PATH, generate_private_key_pem
from roadmap_shared.testing.databases import migrated_database
from roadmap_shared.testing.factories import settings_for_tests
from roadmap_shared.testing.live_server import live_server
from roadmap_shared.testing.plugin import service_database
from tests.orders.factories import auth, make_user

alembic_ini, database_url, db_engine = service_database("src/orders/alembic.ini")

SIGNING_KEY = generate_private_key_pem()
CATALOG_ALEMBIC_INI = Path(__file__).parents[2] / "src/catalog/alembic.ini"


def orders_settings(**values: object) -> Settings:
    return settings_for_tests(
        Settings,
        **{
            "jwt_private_keys": {"test": SecretStr(SIGNING_KEY)},
            "jwt_active_kid": "test",
            "catalog_timeout_seconds": 2.0,
            "catalog_backoff_seconds": 0.01,
            **values,
        },
    )


@pytest.fixture(scope="session")
def catalog_database_url(postgres_url: str) -> Iterator[str]:
    with migrated_database(postgres_url, "test_ms_orders_catalog", CATALOG_ALEMBIC_INI) as url:
        yield url


@pytest.fixture(scope="session")
def catalog_url(catalog_database_url: str, redis_url: str) -> Iterator[str]:
    """A running catalog service; it fetches the public keys from a JWKS server that
    publishes the orders service's keys (served apart, so the catalog needs no orders app)."""
    keys = FastAPI()
    keys.get(JWKS_PATH)(orders_settings().token_signer().jwks)
    with live_server(keys, orders_settings()) as keys_port:
        settings = settings_for_tests(
            CatalogSettings,
            database_url=catalog_database_url,
            redis_url=redis_url,
            cache_ttl_seconds=0,
            jwks_url=f"http://127.0.0.1:{keys_port}{JWKS_PATH}",
        )
        with live_server(create_catalog_app(settings), settings) as port:
            yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def settings(database_url: str, redis_url: str, catalog_url: str) -> Settings:
    return orders_settings(database_url=database_url, redis_url=redis_url, catalog_url=catalog_url)


@pytest.fixture
def app(settings: Settings, redis_client: Redis) -> FastAPI:
    return create_app(settings)


@pytest.fixture(autouse=True)
async def catalog_session(catalog_database_url: str) -> AsyncIterator[AsyncSession]:
    """Writes to the catalog's database, committed (the catalog server must see them).
    Its tables are emptied after every test: order ids start again at 1 in each test, and
    a reservation key `order-1` left from an earlier test would be that order's."""
    engine = create_async_engine(catalog_database_url)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            yield session
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "TRUNCATE reservations, variants, products, categories RESTART IDENTITY CASCADE"
                )
            )
        await engine.dispose()


@pytest.fixture
async def customer(db_session: AsyncSession) -> User:
    return await make_user(db_session)


@pytest.fixture
def customer_auth(settings: Settings, customer: User) -> dict[str, str]:
    return auth(settings, customer)


@pytest.fixture
async def buyer(committed_session: AsyncSession) -> User:
    """A customer in the committed database: the checkout's steps each commit, in
    sessions of their own, so checkout tests use `committing_client` and commit their data."""
    return await make_user(committed_session)


@pytest.fixture
def buyer_auth(settings: Settings, buyer: User) -> dict[str, str]:
    return auth(settings, buyer)


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    """A pool of orders' own, for the settler and the cancellation's steps run directly."""
    database = Database.from_settings(settings, pool_size=2)
    yield database
    await database.dispose()


@pytest.fixture
async def catalog(settings: Settings) -> AsyncIterator[CatalogClient]:
    """Orders' client of the catalog, as the settler has it."""
    client = CatalogClient.from_settings(settings)
    yield client
    await client.aclose()

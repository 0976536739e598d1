from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from ledger.config import Settings
from ledger.main import create_app
from ledger.rpc.client import LedgerClient
from ledger.rpc.server import start_grpc_server
from roadmap_shared.testing.factories import settings_for_tests
from roadmap_shared.testing.plugin import service_database

alembic_ini, database_url, db_engine = service_database("src/ledger/alembic.ini")


def make_settings(database_url: str, **overrides: object) -> Settings:
    return settings_for_tests(Settings, database_url=database_url, grpc_port=0, **overrides)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest_asyncio.fixture
async def ledger_address(
    settings: Settings, db_engine: AsyncEngine, committed_session: AsyncSession
) -> AsyncIterator[str]:
    """The real gRPC server on a free loopback port; its address. What its calls commit is
    removed after the test (`committed_session` empties the tables)."""
    server, port = await start_grpc_server(settings, db_engine)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(grace=None)


@pytest_asyncio.fixture
async def ledger(ledger_address: str) -> AsyncIterator[LedgerClient]:
    """A client of the gRPC API, as another service has."""
    async with grpc.aio.insecure_channel(ledger_address) as channel:
        yield LedgerClient(channel)

"""What a request sends to PostgreSQL besides its own statements: nothing for a read, BEGIN
and COMMIT for a write, never a ping; and a pooled connection the server has closed is
replaced without the client noticing."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import APIRouter
from httpx import ASGITransport, AsyncClient
from sqlalchemy import delete, event, func, select
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from roadmap_shared.app import create_app
from roadmap_shared.database import Database, ReadOnlyRequestError, SessionDep, core_connection
from roadmap_shared.resources import AppResources
from roadmap_shared.settings import AppSettings
from tests.sample_app.models import Note

router = APIRouter()


@router.get("/count")
async def count(session: SessionDep) -> int:
    return await session.scalar(select(func.count()).select_from(Note)) or 0


@router.post("/notes")
async def add(session: SessionDep) -> int:
    session.add(Note(text="written"))
    await session.flush()
    return await session.scalar(select(func.count()).select_from(Note)) or 0


COUNT_NOTES = select(func.count()).select_from(Note)


@router.get("/count-through-core")
async def count_through_core(session: SessionDep) -> int:
    return await (await core_connection(session)).scalar(COUNT_NOTES) or 0


@router.post("/notes-counted-through-core")
async def add_and_count_through_core(session: SessionDep) -> int:
    session.add(Note(text="written"))  # pending: not flushed here
    return await (await core_connection(session)).scalar(COUNT_NOTES) or 0


@router.get("/sneaky-write")
async def sneaky_write(session: SessionDep) -> None:
    session.add(Note(text="a GET must not write"))
    await session.flush()


class Wire:
    """What the app's connections send, in order: the statements the code runs (seen by
    SQLAlchemy) and whatever the driver sends on its own (BEGIN, COMMIT, a ping: asyncpg's
    query log); and the server pids of those connections."""

    def __init__(self) -> None:
        self.queries: list[str] = []
        self.server_pids: set[int] = set()

    def watch(self, database: Database) -> None:
        engine = database.engine.sync_engine

        @event.listens_for(engine, "connect")
        def log_driver_queries(dbapi_connection: DBAPIConnection, _: ConnectionPoolEntry) -> None:
            connection = dbapi_connection.driver_connection
            self.server_pids.add(connection.get_server_pid())
            connection.add_query_logger(lambda record: self.queries.append(record.query))

        @event.listens_for(engine, "after_cursor_execute")
        def log_statements(_c: object, _cu: object, statement: str, *_: object) -> None:
            self.queries.append(statement)

    def sent(self) -> list[str]:
        """The queries since the last call, first words only (`BEGIN`, `SELECT`...)."""
        words = [query.split()[0].rstrip(";").upper() for query in self.queries]
        self.queries.clear()
        return words


@pytest.fixture
def wire() -> Wire:
    return Wire()


@asynccontextmanager
async def serving(
    settings: AppSettings, database_url: str, wire: Wire, *, reads_in_transaction: bool = False
) -> AsyncIterator[AsyncClient]:
    database = Database(
        database_url, pool_size=2, max_overflow=0, reads_in_transaction=reads_in_transaction
    )
    wire.watch(database)
    app = create_app(settings, title="Wire", routers=[router], resources=AppResources(database))
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as http,
    ):
        yield http
    # These requests committed for real: leave the table as the next test expects it.
    cleanup = Database(database_url)
    async with cleanup.engine.begin() as connection:
        await connection.execute(delete(Note))
    await cleanup.dispose()


@pytest_asyncio.fixture
async def client(
    settings: AppSettings, database_url: str, wire: Wire
) -> AsyncIterator[AsyncClient]:
    async with serving(settings, database_url, wire) as http:
        yield http


async def test_a_read_sends_its_statement_and_nothing_else(client: AsyncClient, wire: Wire) -> None:
    await client.get("/count")  # the first use of a connection may set it up
    wire.sent()

    assert (await client.get("/count")).status_code == 200
    assert wire.sent() == ["SELECT"]


async def test_a_write_sends_one_begin_and_one_commit_around_its_statements(
    client: AsyncClient, wire: Wire
) -> None:
    await client.post("/notes")
    wire.sent()

    assert (await client.post("/notes")).status_code == 200
    assert wire.sent() == ["BEGIN", "INSERT", "SELECT", "COMMIT"]


async def test_an_app_whose_reads_need_a_transaction_can_ask_for_one(
    settings: AppSettings, database_url: str, wire: Wire
) -> None:
    """For transaction-scoped settings (row-level security keys): one BEGIN, and a ROLLBACK
    that ends it, since a read has nothing to commit."""
    async with serving(settings, database_url, wire, reads_in_transaction=True) as http:
        await http.get("/count")
        wire.sent()

        assert (await http.get("/count")).status_code == 200
        assert wire.sent() == ["BEGIN", "SELECT", "ROLLBACK"]
        assert (await http.get("/sneaky-write")).status_code == 500  # still refused


async def test_a_core_read_sends_its_statement_and_nothing_else(
    client: AsyncClient, wire: Wire
) -> None:
    await client.get("/count-through-core")
    wire.sent()

    assert (await client.get("/count-through-core")).status_code == 200
    assert wire.sent() == ["SELECT"]


async def test_a_core_statement_after_a_change_sees_it_in_the_same_transaction(
    client: AsyncClient, wire: Wire
) -> None:
    """`core_connection` flushes first, as `session.execute` would: the count includes the
    note just added, and runs inside the request's one transaction."""
    before = (await client.get("/count")).json()
    wire.sent()

    response = await client.post("/notes-counted-through-core")

    assert response.json() == before + 1
    assert wire.sent() == ["BEGIN", "INSERT", "SELECT", "COMMIT"]


async def test_a_read_that_tries_to_write_is_refused_and_writes_nothing(
    client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    before = (await client.get("/count")).json()

    response = await client.get("/sneaky-write")

    assert response.status_code == 500  # a bug in the handler, logged with its traceback
    refused = [r for r in caplog.records if r.exc_info and r.exc_info[0] is ReadOnlyRequestError]
    assert len(refused) == 1
    assert (await client.get("/count")).json() == before


async def test_connections_the_server_closed_are_replaced_before_the_next_request(
    client: AsyncClient, wire: Wire, postgres_url: str
) -> None:
    await client.post("/notes")
    assert wire.server_pids
    killer = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
    try:
        for pid in wire.server_pids:
            await killer.execute("SELECT pg_terminate_backend($1, 5000)", pid)
    finally:
        await killer.close()

    # No ping is sent, yet neither request meets a dead connection.
    assert (await client.get("/count")).status_code == 200
    assert (await client.post("/notes")).status_code == 200

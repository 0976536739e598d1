"""Fixtures every suite gets. Load with `addopts = "-p roadmap_shared.testing.plugin"`.

Services (session): `postgres_url`, `redis_url`, `rabbitmq_url`.
Database: `database_url` is a fresh database for this run, migrated to Alembic head;
`db_session` is a session inside a transaction that is rolled back after each test.
App: a suite defines an `app` fixture; `client` is an `httpx.AsyncClient` over ASGI whose
requests use `db_session`, so what one test writes is gone in the next. Commit the data a
test sets up (factories should): a request that fails rolls back to its own savepoint, and
anything the test had only flushed is undone with it. `committing_client`
commits for real (for concurrency tests), `committed_session` sets up data that other
connections must see (those requests, a worker); both empty the tables afterwards.
Helpers: `query_counter()` counts SQL statements; `alembic_config` drives migrations.
Fault tests: `private_postgres` and `private_redis` are servers of the test module's own,
to kill, hang and bring back (see `roadmap_shared.testing.private_servers`).
Object storage: `s3_endpoint` is an S3 server of the test module's own, `s3_bucket` a new
bucket on it for one test (see `roadmap_shared.testing.s3_server`).
"""

import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import asyncpg
import pytest
import pytest_asyncio
from alembic.config import Config
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from roadmap_shared.after_commit import discard_pending_effects, run_pending_effects
from roadmap_shared.database import get_session
from roadmap_shared.testing.databases import (
    alembic_config as make_alembic_config,
)
from roadmap_shared.testing.databases import (
    create_database,
    drop_database,
    run_alembic,
)
from roadmap_shared.testing.private_servers import PrivatePostgres, PrivateRedis
from roadmap_shared.testing.queries import QueryLog, count_queries
from roadmap_shared.testing.services import (
    POSTGRES,
    RABBITMQ,
    REDIS,
    Service,
    ServiceNotFound,
)
from roadmap_shared.testing.watchdog import Watchdog

BASE_URL = "http://testserver"

# pytest explains a failed `assert` (the values it compared) only in the modules it rewrites.
# These hold the checks the stages share; the plugin is loaded before any test imports them.
pytest.register_assert_rewrite(
    "roadmap_shared.testing.hostile_input",
    "roadmap_shared.testing.no_store",
    "roadmap_shared.testing.redis_down",
    "roadmap_shared.testing.sign_in",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "harness_redis_db",
        "Redis logical database this suite uses, so suites run side by side do not collide",
        default="0",
    )
    parser.addini(
        "harness_alembic_ini", "The suite's alembic.ini, relative to rootdir", default="alembic.ini"
    )
    parser.addini(
        "harness_test_seconds",
        "A test still running after this many seconds (setup and teardown included) hangs: "
        "the run ends, naming it (see roadmap_shared.testing.watchdog)",
        default="300",
    )


# --- services -------------------------------------------------------------------------

SERVICE_FIXTURES = {"postgres_url": POSTGRES, "redis_url": REDIS, "rabbitmq_url": RABBITMQ}
# scripts/run_suites.py sets this to learn why a suite stopped, and says it in its summary.
STOP_REASON_FILE_VARIABLE = "HARNESS_STOP_REASON_FILE"


def record_stop_reason(reason: str) -> None:
    if path := os.environ.get(STOP_REASON_FILE_VARIABLE):
        Path(path).write_text(reason + "\n")


def stop_the_run(reason: str) -> NoReturn:
    """Ends the whole run with one line: without its services no test of it can pass, and
    one error per test would bury that line under thousands of traceback lines."""
    record_stop_reason(reason)
    pytest.exit(reason, returncode=pytest.ExitCode.INTERRUPTED)


WATCHDOG = pytest.StashKey[Watchdog]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    with item.config.stash[WATCHDOG].watching(item.nodeid):
        return (yield)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Checks, before the first test, every service a collected test needs."""
    needed = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    for fixture, service in SERVICE_FIXTURES.items():
        if fixture in needed and (problem := service.problem()) is not None:
            stop_the_run(problem)


def _url(service: Service, containers: ExitStack) -> str:
    try:
        return service.url(containers)
    except ServiceNotFound as unavailable:  # Docker answered, the container did not start
        stop_the_run(str(unavailable))


@pytest.fixture(scope="session")
def _containers() -> Iterator[ExitStack]:
    with ExitStack() as containers:
        yield containers


@pytest.fixture(scope="session")
def postgres_url(_containers: ExitStack) -> str:
    """A PostgreSQL server URL whose user may create databases."""
    return _url(POSTGRES, _containers)


@pytest.fixture(scope="session")
def redis_url(_containers: ExitStack, pytestconfig: pytest.Config) -> str:
    """The Redis server, on this suite's own logical database (`harness_redis_db`)."""
    server = urlsplit(_url(REDIS, _containers))
    return server._replace(path=f"/{pytestconfig.getini('harness_redis_db')}").geturl()


@pytest.fixture(scope="session")
def rabbitmq_url(_containers: ExitStack) -> str:
    return _url(RABBITMQ, _containers)


# --- database -------------------------------------------------------------------------


def _create_database_or_stop(postgres_url: str, prefix: str) -> str:
    """`create_database`, or the run ends with one line when PostgreSQL answers but refuses
    the URL's user: the session fixture would otherwise fail each test with the traceback."""
    try:
        return create_database(postgres_url, prefix)
    except asyncpg.PostgresError as refused:
        server = urlsplit(postgres_url)
        stop_the_run(
            f"PostgreSQL at {server.hostname}:{server.port or POSTGRES.default_port} refused "
            f"{POSTGRES.env_var}: {refused}. Set {POSTGRES.env_var} to a user it accepts, "
            "one allowed to create databases (the harness makes one per run)."
        )


def _database_prefix(config: pytest.Config) -> str:
    return "test_" + "".join(c if c.isalnum() else "_" for c in config.rootpath.name.lower())


@pytest.fixture(scope="session")
def alembic_ini(pytestconfig: pytest.Config) -> Path:
    return pytestconfig.rootpath / str(pytestconfig.getini("harness_alembic_ini"))


@pytest.fixture(scope="session")
def database_url(
    postgres_url: str, alembic_ini: Path, pytestconfig: pytest.Config
) -> Iterator[str]:
    """A database made for this test run and migrated to head; dropped at the end."""
    url = _create_database_or_stop(postgres_url, _database_prefix(pytestconfig))
    try:
        run_alembic(make_alembic_config(alembic_ini, url), "upgrade", "head")
        yield url
    finally:
        drop_database(postgres_url, url)


def service_database(alembic_ini: str) -> tuple[Any, Any, Any]:
    """The `alembic_ini`, `database_url` and `db_engine` fixtures of one service, for a
    stage of several services, each with a database of its own. The `conftest.py` of the
    service's tests (`tests/<service>/`) declares them, and every fixture built on them
    (`db_session`, `client`, ...) then uses that service's database:

        alembic_ini, database_url, db_engine = service_database("src/catalog/alembic.ini")

    They are new fixtures, not parameters of the suite's: pytest keeps one value per
    session-scoped fixture, so two services sharing `database_url` would share a database.
    """
    service = Path(alembic_ini).parent.name

    @pytest.fixture(name="alembic_ini", scope="session")
    def service_alembic_ini(pytestconfig: pytest.Config) -> Path:
        return pytestconfig.rootpath / alembic_ini

    @pytest.fixture(name="database_url", scope="session")
    def service_database_url(
        postgres_url: str, alembic_ini: Path, pytestconfig: pytest.Config
    ) -> Iterator[str]:
        prefix = f"{_database_prefix(pytestconfig)}_{service}"
        url = _create_database_or_stop(postgres_url, prefix)
        try:
            run_alembic(make_alembic_config(alembic_ini, url), "upgrade", "head")
            yield url
        finally:
            drop_database(postgres_url, url)

    @pytest_asyncio.fixture(name="db_engine", scope="session")
    async def service_db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
        engine = create_async_engine(database_url)
        yield engine
        await engine.dispose()

    return service_alembic_ini, service_database_url, service_db_engine


@pytest.fixture
def scratch_database_url(postgres_url: str, pytestconfig: pytest.Config) -> Iterator[str]:
    """An empty, unmigrated database for one test (migration round trips)."""
    url = _create_database_or_stop(postgres_url, _database_prefix(pytestconfig) + "_scratch")
    try:
        yield url
    finally:
        drop_database(postgres_url, url)


@pytest.fixture
def alembic_config(alembic_ini: Path, database_url: str) -> Config:
    return make_alembic_config(alembic_ini, database_url)


@pytest_asyncio.fixture(scope="session")
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture
async def db_session(db_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session in a transaction rolled back after the test. Its commits (and the app's)
    become savepoints, so code under test commits as usual and nothing outlives the test."""
    async with db_engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()


@pytest.fixture
def query_counter(db_engine: AsyncEngine) -> Callable[[], AbstractContextManager[QueryLog]]:
    """`with query_counter() as queries: ...` then `queries.count`, `queries.statements`."""
    return lambda: count_queries(db_engine.sync_engine)


# --- redis ----------------------------------------------------------------------------


@pytest_asyncio.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    """A client on the suite's Redis database, emptied before the test."""
    client = Redis.from_url(redis_url, decode_responses=True)
    await client.flushdb()
    yield client
    await client.aclose()


# --- app ------------------------------------------------------------------------------


@pytest.fixture
def app() -> FastAPI:
    raise pytest.UsageError("Define an `app` fixture in the suite's conftest.py")


def _uses_database(app: FastAPI) -> bool:
    return getattr(app.state, "database", None) is not None


@asynccontextmanager
async def _serve(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app)
        async with AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield client


@pytest.fixture
def _app_db_session(app: FastAPI, request: pytest.FixtureRequest) -> AsyncSession | None:
    # Only apps with a database need one; stage 1 runs without PostgreSQL.
    return request.getfixturevalue("db_session") if _uses_database(app) else None


@pytest_asyncio.fixture
async def client(app: FastAPI, _app_db_session: AsyncSession | None) -> AsyncIterator[AsyncClient]:
    """An HTTP client for `app`. Requests share `db_session`, so the test sees their writes
    and they are rolled back afterwards."""
    if (session := _app_db_session) is not None:

        async def session_in_test_transaction() -> AsyncIterator[AsyncSession]:
            # As in production: each request starts with nothing loaded (so a lazy load
            # still fails loudly), commits on success (releasing its savepoint) and then
            # runs its after-commit effects, rolls back on error and drops them.
            session.expunge_all()
            try:
                yield session
                await session.commit()
            except Exception:
                await session.rollback()
                discard_pending_effects(session)
                raise
            await run_pending_effects(session)

        app.dependency_overrides[get_session] = session_in_test_transaction
    try:
        async with _serve(app) as http:
            yield http
    finally:
        app.dependency_overrides.pop(get_session, None)


@pytest_asyncio.fixture
async def committing_client(app: FastAPI, db_engine: AsyncEngine) -> AsyncIterator[AsyncClient]:
    """A client whose requests each use their own connection and really commit, for tests
    that fire concurrent requests. Every table is emptied after the test."""
    try:
        async with _serve(app) as http:
            yield http
    finally:
        await _truncate_all_tables(db_engine)


@pytest_asyncio.fixture
async def committed_session(db_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose commits are real, for data that other connections must see
    (`committing_client`'s requests, a background worker). Every table is emptied after
    the test."""
    try:
        async with AsyncSession(db_engine, expire_on_commit=False) as session:
            yield session
    finally:
        await _truncate_all_tables(db_engine)


async def _truncate_all_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        tables = (
            await connection.execute(
                text(
                    "SELECT quote_ident(tablename) FROM pg_tables "
                    "WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
                )
            )
        ).scalars()
        if names := ", ".join(tables):
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


# --- private servers for fault tests ----------------------------------------------------


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster for this module alone, on a free port (`.url`): kill it with
    `with private_postgres.stopped():`, hang it with `with private_postgres.paused():`."""
    with PrivatePostgres() as server:
        yield server


@pytest.fixture(scope="module")
def private_redis() -> Iterator[PrivateRedis]:
    """A Redis server for this module alone, on a free port (`.url`); `.stopped()` and
    `.paused()` as for `private_postgres`."""
    with PrivateRedis() as server:
        yield server


# --- an S3 server ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3 server (moto's) for this module alone: its endpoint URL. Requests to it
    are signed with `roadmap_shared.testing.s3_server.signed`, or by the storage itself."""
    # Imported here: moto takes a second to load, and most suites never start it.
    from roadmap_shared.testing.s3_server import s3_server  # noqa: PLC0415

    with s3_server() as endpoint:
        yield endpoint


@pytest_asyncio.fixture
async def s3_bucket(s3_endpoint: str) -> str:
    """A new, empty bucket on `s3_endpoint`, for one test: its name."""
    from roadmap_shared.testing.s3_server import new_bucket  # noqa: PLC0415

    return await new_bucket(s3_endpoint)


def pytest_configure(config: pytest.Config) -> None:
    seconds = float(config.getini("harness_test_seconds"))
    config.stash[WATCHDOG] = Watchdog(seconds, record_stop_reason)
    config.addinivalue_line("markers", "slow: a test that takes seconds (concurrency, workers)")

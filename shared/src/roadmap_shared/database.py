"""The database layer later stages use: an async engine, one session per request, and a
declarative base with a naming convention and timestamp columns.

A request's session commits when the handler returns and rolls back when it raises, before
the response is sent, so a client never sees success for a write that was not committed.

Every round trip to PostgreSQL costs the request latency and the app CPU (a send, a wake-up,
a parse), so the session sends nothing the request did not ask for:

- No ping before each checkout. asyncpg notices by itself when the server closes a
  connection (a restart, `pg_terminate_backend`, an idle timeout): such a connection is
  dropped at checkout and another one taken, with no round trip. A connection that dies
  mid-request fails that request with a 503 (`roadmap_shared.outages`), and the pool then
  replaces every connection opened before the failure.
- No transaction for a read. A GET or HEAD request's statements run in autocommit: under
  PostgreSQL's default isolation (READ COMMITTED) every statement takes its own snapshot
  even inside a transaction, so BEGIN and COMMIT would add two round trips and no
  consistency. Writes keep BEGIN ... COMMIT around the whole request.

Hot reads also step down from the ORM to Core (`core_connection`): a statement built once
at import and executed on the session's connection skips the ORM's per-statement work.
"""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from pydantic_core import from_json
from sqlalchemy import DateTime, MetaData, event, func, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from roadmap_shared.after_commit import run_pending_effects
from roadmap_shared.settings import (
    CONNECT_TIMEOUT_SECONDS,
    POOL_TIMEOUT_SECONDS,
    STATEMENT_TIMEOUT_SECONDS,
    DatabaseSettings,
)

# Alembic names constraints from these, so migrations are deterministic and a constraint
# can be dropped by name in a later migration.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """Each stage owns its metadata (and its migrations):

    class Base(DeclarativeBase):
        metadata = new_metadata()
    """
    return MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )
    # Set in Python on update, so the new value is known without a round trip to reload it.
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow, onupdate=utcnow
    )


# The server cancels a slow statement itself and keeps the connection; the client's own
# timer, this much later, catches a server that does not answer at all.
CLIENT_TIMEOUT_GRACE_SECONDS = 1.0
# Connections are replaced at checkout once this old: a server-side backend's memory (its
# caches of plans and catalogue rows) only grows, and a new connection follows a changed
# DNS name after a failover. Once per half hour per connection costs nothing measurable.
POOL_RECYCLE_SECONDS = 1800
# Safe methods (RFC 9110) only read: their sessions run without BEGIN and COMMIT.
READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


class ReadOnlyRequestError(RuntimeError):
    """A GET or HEAD handler tried to write. Its statements run in autocommit, so each
    write would commit on its own, and a failure halfway would leave half of them."""


class ReadSession(Session):
    """The session of a GET or HEAD request: it refuses to write (`ReadOnlyRequestError`)."""


@event.listens_for(ReadSession, "do_orm_execute")
def _refuse_write_statements(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnlyRequestError("a GET or HEAD request must not write")


@event.listens_for(ReadSession, "before_flush")
def _refuse_flushes(session: Session, *_: object) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlyRequestError("a GET or HEAD request must not write")


def _refuse_closed_connection(
    dbapi_connection: DBAPIConnection,
    _record: ConnectionPoolEntry,
    _proxy: PoolProxiedConnection,
) -> None:
    """At checkout: a connection the server has closed is thrown away and the pool takes
    another (`DisconnectionError` asks it to). asyncpg saw the close when it happened, so
    asking costs no round trip, unlike `pool_pre_ping`, which sent three (BEGIN; ;ROLLBACK)
    before every request."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


class Database:
    """An engine and its session factory. Create one per process, dispose it on shutdown.

    Every wait is bounded: opening a connection (`connect_timeout_seconds`), running one
    statement (`statement_timeout_seconds`) and waiting for a free pooled connection
    (`pool_timeout_seconds`). A hung server makes a request fail within about twice the
    statement timeout (the statement, then the rollback), never hang with it.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        connect_timeout_seconds: float = CONNECT_TIMEOUT_SECONDS,
        statement_timeout_seconds: float = STATEMENT_TIMEOUT_SECONDS,
        pool_timeout_seconds: float = POOL_TIMEOUT_SECONDS,
        reads_in_transaction: bool = False,
    ) -> None:
        """`reads_in_transaction`: give GET and HEAD requests a transaction too, for an app
        whose reads depend on transaction-scoped settings (`SET LOCAL`, `set_config(...,
        true)`, such as the keys of row-level security policies), which autocommit would
        forget after each statement."""
        self.engine = create_async_engine(
            url,
            # JSON columns, and the JSON documents PostgreSQL builds for list pages, are
            # parsed by pydantic's Rust parser: the same Python values as `json.loads`, for
            # about half the CPU (a page of 20 products parses 40 documents).
            json_deserializer=from_json,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout_seconds,
            pool_recycle=POOL_RECYCLE_SECONDS,
            # asyncpg's options: the first two are client-side timers, the server setting
            # makes PostgreSQL cancel the statement (and free its locks) by itself.
            connect_args={
                "timeout": connect_timeout_seconds,
                "command_timeout": statement_timeout_seconds + CLIENT_TIMEOUT_GRACE_SECONDS,
                "server_settings": {
                    "statement_timeout": str(round(statement_timeout_seconds * 1000))
                },
            },
        )
        event.listen(self.engine.sync_engine, "checkout", _refuse_closed_connection)
        # Objects stay readable after commit, so a handler can return what it just saved.
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # The same pool; each statement commits by itself, so no BEGIN/COMMIT is sent.
        read_engine = (
            self.engine
            if reads_in_transaction
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self.read_sessionmaker = async_sessionmaker(
            read_engine,
            sync_session_class=ReadSession,
            expire_on_commit=False,
        )

    @classmethod
    def from_settings(
        cls,
        settings: DatabaseSettings,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        reads_in_transaction: bool = False,
    ) -> "Database":
        return cls(
            settings.database_url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            reads_in_transaction=reads_in_transaction,
            connect_timeout_seconds=settings.database_connect_timeout_seconds,
            statement_timeout_seconds=settings.database_statement_timeout_seconds,
            pool_timeout_seconds=settings.database_pool_timeout_seconds,
        )

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


async def core_connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection, for a Core statement whose rows go straight into a
    response: `(await core_connection(session)).execute(STATEMENT, params)`.

    `session.execute` runs every statement through the ORM: events, an ORM compile step,
    a result that could hold objects. For a SELECT of plain columns none of that is used,
    and on this project's hot reads it was about half of the statement's CPU cost. The
    connection is the session's own, so the statement runs in the session's transaction
    (or autocommit), and SQLAlchemy still wraps errors (`roadmap_shared.outages`).

    The one thing `session.execute` did that matters: it flushed pending changes first,
    so that a read after a write sees it. This does that too."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    return await session.connection()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session; the app keeps its `Database` in `app.state.database`.

    A GET or HEAD reads without a transaction (see the module's docstring). Any other
    request runs in one transaction; what services registered with `after_commit` runs
    once the commit has succeeded; an exception skips it, and the session (with what was
    registered) is thrown away."""
    database: Database = request.app.state.database
    if request.method in READ_ONLY_METHODS:
        async with database.read_sessionmaker() as session:
            yield session
            await run_pending_effects(session)
        return
    async with database.sessionmaker() as session:
        async with session.begin():
            yield session
        await run_pending_effects(session)


# scope="function": commit (or roll back) right after the handler, before the response.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

"""The database layer later stages use: an async engine, one session per request, and a
declarative base with a naming convention and timestamp columns.

A request's session commits when the handler returns and rolls back when it raises, before
the response is sent, so a client never sees success for a write that was not committed.
"""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, func, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Mapped, mapped_column

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
    ) -> None:
        self.engine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout_seconds,
            pool_pre_ping=True,
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
        # Objects stay readable after commit, so a handler can return what it just saved.
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(
        cls, settings: DatabaseSettings, *, pool_size: int = 10, max_overflow: int = 10
    ) -> "Database":
        return cls(
            settings.database_url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            connect_timeout_seconds=settings.database_connect_timeout_seconds,
            statement_timeout_seconds=settings.database_statement_timeout_seconds,
            pool_timeout_seconds=settings.database_pool_timeout_seconds,
        )

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session; the app keeps its `Database` in `app.state.database`.

    What services registered with `after_commit` runs once the commit has succeeded; an
    exception skips it, and the session (with what was registered) is thrown away."""
    database: Database = request.app.state.database
    async with database.sessionmaker() as session:
        async with session.begin():
            yield session
        await run_pending_effects(session)


# scope="function": commit (or roll back) right after the handler, before the response.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

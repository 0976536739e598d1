"""Creating, migrating and dropping the throw-away databases a suite runs against."""

import asyncio
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

T = TypeVar("T")


def run_outside_event_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs a coroutine to completion on a fresh loop in a worker thread.

    Sync fixtures and Alembic (whose async env.py calls `asyncio.run`) must not touch the
    event loop pytest-asyncio keeps for the test session.
    """
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


def asyncpg_url(url: str) -> str:
    """The same server and database, spoken to through SQLAlchemy's asyncpg driver."""
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def _plain_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(server_url: str, prefix: str) -> str:
    """Creates an empty database with a unique name; returns its asyncpg URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        connection = await asyncpg.connect(_plain_dsn(server_url))
        try:
            # A database name cannot be a bind parameter; this one is ours and quoted.
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    run_outside_event_loop(create())
    return asyncpg_url(make_url(server_url).set(database=name).render_as_string(False))


def drop_database(server_url: str, database_url: str) -> None:
    name = make_url(database_url).database

    async def drop() -> None:
        connection = await asyncpg.connect(_plain_dsn(server_url))
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    run_outside_event_loop(drop())


def alembic_config(ini_path: Path, database_url: str) -> Config:
    config = Config(str(ini_path))
    # configparser treats % as interpolation; a literal one must be doubled.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def run_alembic(config: Config, action: str, *args: str) -> None:
    """Runs an Alembic command (`upgrade`, `downgrade`, `check`, ...) on a worker thread."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        executor.submit(getattr(command, action), config, *args).result()


@contextmanager
def migrated_database(server_url: str, prefix: str, alembic_ini: Path) -> Iterator[str]:
    """A database of its own on `server_url`, migrated to head with `alembic_ini`; yields
    its URL, and drops it afterwards however the block ends."""
    database_url = create_database(server_url, prefix)
    try:
        run_alembic(alembic_config(alembic_ini, database_url), "upgrade", "head")
        yield database_url
    finally:
        drop_database(server_url, database_url)


def migrate_down_and_up(config: Config) -> None:
    """Upgrades an empty database to head, downgrades it to empty, and upgrades it again:
    every downgrade runs, and leaves nothing behind that the next upgrade trips over."""
    for action, target in [("upgrade", "head"), ("downgrade", "base"), ("upgrade", "head")]:
        run_alembic(config, action, target)

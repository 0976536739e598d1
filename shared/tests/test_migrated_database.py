"""`migrated_database`: a database of one's own at head, gone afterwards however the block
ends (a benchmark that fails half-way must not leave its database behind)."""

from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from roadmap_shared.testing.databases import migrated_database


async def database_names(postgres_url: str) -> set[str]:
    dsn = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    connection = await asyncpg.connect(dsn)
    try:
        return {row["datname"] for row in await connection.fetch("SELECT datname FROM pg_database")}
    finally:
        await connection.close()


async def table_names(database_url: str) -> set[str]:
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row["tablename"] for row in rows}
    finally:
        await connection.close()


async def test_the_database_is_at_head_inside_and_dropped_after(
    postgres_url: str, alembic_ini: Path
) -> None:
    with migrated_database(postgres_url, "migrated_test", alembic_ini) as database_url:
        assert {"notes", "alembic_version"} <= await table_names(database_url)
    assert make_url(database_url).database not in await database_names(postgres_url)


async def test_the_database_is_dropped_when_the_block_fails(
    postgres_url: str, alembic_ini: Path
) -> None:
    with (
        pytest.raises(RuntimeError, match="half-way"),
        migrated_database(postgres_url, "migrated_test", alembic_ini) as database_url,
    ):
        raise RuntimeError("half-way")
    assert make_url(database_url).database not in await database_names(postgres_url)

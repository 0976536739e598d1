"""`python -m roadmap_shared.upgrade_database <package>`: what `make migrate` runs in a stage
folder, and what a stage's container runs before it serves.

Creates the stage's database when it does not exist yet (a convenience for development:
in production the database is provisioned separately), then runs `alembic upgrade head`
with the stage's `alembic.ini`. A PostgreSQL that does not answer, or settings that are not
valid, stop it with one line (see roadmap_shared.preflight), and so does one that answers
but refuses the login (a user it does not know, a wrong password). (The migrations themselves run
inside Alembic through each stage's env.py, which calls roadmap_shared.alembic_env.)
"""

import asyncio
import importlib
import sys
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from roadmap_shared.preflight import (
    RequiredService,
    load_settings,
    require_services,
    required_services,
)


async def ensure_database(url: str) -> bool:
    """Creates the database named in `url` if missing; True if it was created."""
    target = make_url(url)
    server = target.set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(server.render_as_string(hide_password=False))
    try:
        exists = await connection.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", target.database
        )
        if not exists:
            # Identifiers cannot be bind parameters; quote_ident comes from the server.
            name = await connection.fetchval("SELECT quote_ident($1)", target.database)
            await connection.execute(f"CREATE DATABASE {name}")
        return not exists
    finally:
        await connection.close()


def create_database_if_missing(database: RequiredService) -> None:
    """`ensure_database`, or one line when the server answers but turns us away: the port
    check cannot tell a local PostgreSQL that wants a password from one that lets us in."""
    try:
        created = asyncio.run(ensure_database(database.url))
    except (asyncpg.PostgresError, OSError) as error:
        host, port = database.address()
        raise SystemExit(
            f"PostgreSQL at {host}:{port} refused {database.env_var}: {error}. Set "
            f"{database.env_var} to a user (and password) it accepts, one allowed to create "
            "databases, or use `docker compose up -d postgres`."
        ) from None
    if created:
        print(f"created database {make_url(database.url).database}")


def main(package: str) -> None:
    settings = load_settings(package)
    [database] = [s for s in required_services(settings) if s.name == "PostgreSQL"]
    require_services([database])
    create_database_if_missing(database)
    command.upgrade(Config(str(alembic_ini(package))), "head")


def alembic_ini(package: str) -> Path:
    """The package's own alembic.ini (a service of a stage split into services keeps its
    migrations, and their ini, inside its package), else the one in the current folder
    (a stage of one package keeps it at the stage's root)."""
    inside = Path(importlib.import_module(package).__file__ or "").parent / "alembic.ini"
    return inside if inside.is_file() else Path.cwd() / "alembic.ini"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m roadmap_shared.upgrade_database <stage package>")
    main(sys.argv[1])

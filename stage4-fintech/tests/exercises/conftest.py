"""The exercises use the fixtures of the ledger's tests (its database, app and gRPC server)."""

from tests.ledger.conftest import (
    alembic_ini,
    app,
    database_url,
    db_engine,
    ledger,
    ledger_address,
    settings,
)

__all__ = [
    "alembic_ini",
    "app",
    "database_url",
    "db_engine",
    "ledger",
    "ledger_address",
    "settings",
]

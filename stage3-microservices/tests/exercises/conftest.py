"""The exercises use the fixtures of the catalog's tests (its app and database) and of the
end-to-end tests (the whole shop behind the gateway)."""

from tests.catalog.conftest import (
    admin,
    alembic_ini,
    app,
    customer,
    database_url,
    db_engine,
    jwks_http,
    orders_service,
    settings,
    signer,
)
from tests.e2e.conftest import catalog_db, shop

__all__ = [
    "admin",
    "alembic_ini",
    "app",
    "catalog_db",
    "customer",
    "database_url",
    "db_engine",
    "jwks_http",
    "orders_service",
    "settings",
    "shop",
    "signer",
]

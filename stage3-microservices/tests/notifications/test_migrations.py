"""The service's migrations: up, down and up again on an empty database, and nothing in
the models that the migrations lack."""

from roadmap_shared.testing.databases import alembic_config, migrate_down_and_up, run_alembic
from tests.notifications.conftest import ALEMBIC_INI


def test_migrations_go_down_and_up_again(scratch_database_url: str) -> None:
    migrate_down_and_up(alembic_config(ALEMBIC_INI, scratch_database_url))


def test_the_models_need_no_migration_the_migrations_lack(database_url: str) -> None:
    run_alembic(alembic_config(ALEMBIC_INI, database_url), "check")

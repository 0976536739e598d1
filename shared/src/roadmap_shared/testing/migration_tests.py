"""The migration tests every suite with a database runs. A suite collects them by importing
them into its `tests/test_migrations.py`:

    from roadmap_shared.testing.migration_tests import (  # noqa: F401  (pytest collects them)
        test_migrations_go_down_to_empty_and_up_again,
        test_models_and_migrations_agree,
    )
"""

from pathlib import Path

from alembic.config import Config

from roadmap_shared.testing import databases


def test_models_and_migrations_agree(alembic_config: Config) -> None:
    databases.run_alembic(alembic_config, "check")


def test_migrations_go_down_to_empty_and_up_again(
    alembic_ini: Path, scratch_database_url: str
) -> None:
    databases.migrate_down_and_up(databases.alembic_config(alembic_ini, scratch_database_url))

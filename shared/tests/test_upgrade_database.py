"""`make migrate` (and `make run`, which migrates first) on a PostgreSQL that answers but
refuses the login: one line, not asyncpg's traceback."""

import pytest
from sqlalchemy.engine import make_url

from roadmap_shared.preflight import RequiredService
from roadmap_shared.upgrade_database import create_database_if_missing


def test_a_refused_login_is_one_line_naming_the_variable(postgres_url: str) -> None:
    unknown_user = make_url(postgres_url).set(
        drivername="postgresql+asyncpg", username="nobody_the_server_knows", database="demo"
    )
    database = RequiredService(
        "PostgreSQL",
        unknown_user.render_as_string(hide_password=False),
        "DEMO_DATABASE_URL",
        compose_service="postgres",
    )

    with pytest.raises(SystemExit) as exit_:
        create_database_if_missing(database)

    [line] = str(exit_.value).splitlines()
    assert line.startswith(f"PostgreSQL at {unknown_user.host}:{unknown_user.port} refused")
    assert 'role "nobody_the_server_knows" does not exist' in line
    assert "Set DEMO_DATABASE_URL to a user (and password) it accepts" in line

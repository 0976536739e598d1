"""The harness's promises: a migrated database per run, a rolled-back transaction per
test, real services, counted queries, and a clear error when a service is missing."""

import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path

import pytest
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.testing.plugin import STOP_REASON_FILE_VARIABLE
from roadmap_shared.testing.queries import QueryLog
from roadmap_shared.testing.services import POSTGRES, ServiceNotFound
from roadmap_shared.testing.watchdog import HUNG_EXIT_CODE
from tests.sample_app.models import Note


async def test_the_run_gets_its_own_database_migrated_to_head(db_session: AsyncSession) -> None:
    name = await db_session.scalar(text("SELECT current_database()"))
    version = await db_session.scalar(text("SELECT version_num FROM alembic_version"))
    assert name is not None
    assert name.startswith("test_shared_")
    assert version == "0001"


async def test_a_committed_row_is_visible_within_its_test(db_session: AsyncSession) -> None:
    db_session.add(Note(text="written by one test"))
    await db_session.commit()
    assert await db_session.scalar(select(func.count()).select_from(Note)) == 1


async def test_the_row_from_the_previous_test_is_gone(db_session: AsyncSession) -> None:
    assert await db_session.scalar(select(func.count()).select_from(Note)) == 0


async def test_requests_share_the_test_transaction(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    response = await client.post("/notes", json={"text": "via the API"})
    assert response.status_code == 201
    assert await db_session.scalar(select(Note.text)) == "via the API"


async def test_a_failed_request_rolls_back_its_writes(client: AsyncClient) -> None:
    await client.post("/notes", json={"text": "kept"})
    response = await client.post("/notes", json={"text": "fail after write"})
    assert response.status_code == 409
    assert (await client.get("/notes/count")).json() == {"count": 1}


async def test_committing_client_commits_for_real(
    committing_client: AsyncClient, db_session: AsyncSession
) -> None:
    await committing_client.post("/notes", json={"text": "really committed"})
    # db_session runs in its own transaction, so it only sees committed rows.
    assert await db_session.scalar(select(func.count()).select_from(Note)) == 1


async def test_committing_client_empties_tables_afterwards(db_session: AsyncSession) -> None:
    assert await db_session.scalar(select(func.count()).select_from(Note)) == 0


async def test_committed_session_data_is_seen_by_other_connections(
    committed_session: AsyncSession, committing_client: AsyncClient
) -> None:
    committed_session.add(Note(text="set up for real"))
    await committed_session.commit()
    assert (await committing_client.get("/notes/count")).json() == {"count": 1}


async def test_committed_session_data_is_gone_afterwards(db_session: AsyncSession) -> None:
    assert await db_session.scalar(select(func.count()).select_from(Note)) == 0


async def test_query_counter_counts_statements(
    db_session: AsyncSession,
    query_counter: Callable[[], AbstractContextManager[QueryLog]],
) -> None:
    with query_counter() as queries:
        await db_session.execute(select(Note))
        await db_session.execute(select(func.count()).select_from(Note))
    assert queries.count == 2, str(queries)


async def test_redis_client_uses_the_suites_own_database(
    redis_client: Redis, pytestconfig: pytest.Config
) -> None:
    await redis_client.set("harness:key", "value")
    assert await redis_client.get("harness:key") == "value"
    # The configured database (1 for this suite, or `-o harness_redis_db=N`), not 0.
    configured = int(pytestconfig.getini("harness_redis_db"))
    assert redis_client.connection_pool.connection_kwargs["db"] == configured != 0


def test_a_missing_service_names_both_ways_to_provide_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TEST_POSTGRES_URL", raising=False)
    # Point Docker at a socket that does not exist, so testcontainers cannot start anything.
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with ExitStack() as containers, pytest.raises(ServiceNotFound) as failure:
        POSTGRES.url(containers)
    message = str(failure.value)
    assert "TEST_POSTGRES_URL" in message
    assert "Docker" in message
    assert "postgres:" in message


def test_a_service_url_from_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_POSTGRES_URL", "postgresql://someone@db.internal:5432/postgres")
    with ExitStack() as containers:
        assert POSTGRES.url(containers) == "postgresql://someone@db.internal:5432/postgres"


def run_suite(tmp_path: Path, tests: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """Runs a tiny suite of its own with the harness, as `make test` runs a stage's."""
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p roadmap_shared.testing.plugin\n")
    (tmp_path / "test_suite.py").write_text(tests)
    return subprocess.run(  # noqa: S603 (our interpreter, our arguments)
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        # Not the outer run's stop-reason file: this suite's stop is not the outer suite's.
        env={k: v for k, v in os.environ.items() if k != STOP_REASON_FILE_VARIABLE} | environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


THREE_TESTS_THAT_NEED_POSTGRESQL = """
def test_one(postgres_url): pass
def test_two(postgres_url): pass
def test_three(postgres_url): pass
"""


def test_a_suite_without_its_service_stops_once_with_one_line(tmp_path: Path) -> None:
    reason_file = tmp_path / "stopped"
    result = run_suite(
        tmp_path,
        THREE_TESTS_THAT_NEED_POSTGRESQL,
        TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:1/postgres",
        HARNESS_STOP_REASON_FILE=str(reason_file),
    )
    line = (
        "PostgreSQL is not reachable at 127.0.0.1:1 (TEST_POSTGRES_URL). Start it (`docker "
        "compose up -d postgres`), or set TEST_POSTGRES_URL to a running PostgreSQL, or unset "
        "it to let the harness start postgres:17.2-alpine with Docker."
    )
    assert result.returncode == pytest.ExitCode.INTERRUPTED
    assert result.stdout.count(line) + result.stderr.count(line) == 1
    assert "no tests ran" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert reason_file.read_text() == line + "\n"


def test_a_postgresql_that_refuses_the_user_stops_the_suite_once(
    tmp_path: Path, postgres_url: str
) -> None:
    unknown_user = make_url(postgres_url).set(username="nobody_the_server_knows")
    result = run_suite(
        tmp_path,
        THREE_TESTS_THAT_NEED_POSTGRESQL.replace("postgres_url", "database_url"),
        TEST_POSTGRES_URL=unknown_user.render_as_string(hide_password=False),
    )
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.INTERRUPTED
    assert output.count('role "nobody_the_server_knows" does not exist') == 1
    assert "Set TEST_POSTGRES_URL to a user it accepts" in output
    assert "Traceback" not in output


def test_a_suite_that_needs_no_service_runs_without_it(tmp_path: Path) -> None:
    result = run_suite(
        tmp_path,
        "def test_alone(): pass\n",
        TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:1/postgres",
    )
    assert result.returncode == 0, result.stdout


def test_a_hung_test_ends_its_run_in_bounded_time_naming_itself(tmp_path: Path) -> None:
    reason_file = tmp_path / "stopped"
    hung = "import asyncio\n\nasync def test_waits_forever():\n    await asyncio.Event().wait()\n"
    result = run_suite(
        tmp_path,
        hung,
        PYTEST_ADDOPTS="-o harness_test_seconds=1 -o asyncio_mode=auto",
        HARNESS_STOP_REASON_FILE=str(reason_file),
    )
    reason = "test_suite.py::test_waits_forever ran over 1 s and was stopped: it hangs"
    assert result.returncode == HUNG_EXIT_CODE, result.stdout + result.stderr
    assert reason in result.stderr
    assert "Thread 0x" in result.stderr  # every thread's stack, to see where it waits
    assert reason_file.read_text() == reason + "\n"

"""A database that is down or hung: requests get 503 with Retry-After within the configured
timeouts, and succeed again once it is back, without a restart of the app.

The cluster is private to this module (`private_postgres`): these tests kill and freeze it.
"""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest_asyncio
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy.ext.asyncio import create_async_engine

from roadmap_shared.database import CLIENT_TIMEOUT_GRACE_SECONDS, Database
from roadmap_shared.errors import PROBLEM_CONTENT_TYPE
from roadmap_shared.settings import AppSettings
from roadmap_shared.testing.private_servers import PrivatePostgres
from tests.sample_app.main import build_app
from tests.sample_app.models import Base

CONNECT_TIMEOUT_SECONDS = 1.0
STATEMENT_TIMEOUT_SECONDS = 1.0
# A hung server costs at most: the statement (the statement timeout plus the client's
# grace), a new connection, and the rollback, with room for one more statement. Far below
# "as long as it hangs", which here is forever.
WORST_CASE_SECONDS = (
    3 * (STATEMENT_TIMEOUT_SECONDS + CLIENT_TIMEOUT_GRACE_SECONDS) + CONNECT_TIMEOUT_SECONDS
)


@pytest_asyncio.fixture(loop_scope="session")
async def client(
    settings: AppSettings, private_postgres: PrivatePostgres
) -> AsyncIterator[AsyncClient]:
    schema = create_async_engine(private_postgres.url)
    async with schema.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    await schema.dispose()
    database = Database(
        private_postgres.url,
        connect_timeout_seconds=CONNECT_TIMEOUT_SECONDS,
        statement_timeout_seconds=STATEMENT_TIMEOUT_SECONDS,
        pool_timeout_seconds=1,
    )
    app = build_app(settings, private_postgres.url, database=database)
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as http,
    ):
        yield http


def assert_unavailable(response: Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["status"] == 503


async def test_a_stopped_database_gives_503_and_recovery_needs_no_restart(
    client: AsyncClient, private_postgres: PrivatePostgres
) -> None:
    assert (await client.get("/notes/count")).status_code == 200  # a pooled connection
    with private_postgres.stopped():
        read = await client.get("/notes/count")
        write = await client.post("/notes", json={"text": "lost?"})
        ready = await client.get("/readyz")
    assert_unavailable(read)
    assert_unavailable(write)
    assert ready.status_code == 503
    assert (await client.get("/notes/count")).status_code == 200
    assert (await client.post("/notes", json={"text": "back"})).status_code == 201


async def test_a_hung_database_gives_503_within_the_configured_timeouts(
    client: AsyncClient, private_postgres: PrivatePostgres
) -> None:
    assert (await client.get("/notes/count")).status_code == 200
    with private_postgres.paused():
        started = time.monotonic()
        # Without timeouts these would wait forever: fail the test instead of hanging it.
        async with asyncio.timeout(2 * WORST_CASE_SECONDS):
            responses = await asyncio.gather(*(client.get("/notes/count") for _ in range(4)))
        elapsed = time.monotonic() - started
    for response in responses:
        assert_unavailable(response)
    assert elapsed < WORST_CASE_SECONDS
    assert (await client.get("/notes/count")).status_code == 200

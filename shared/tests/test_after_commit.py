"""`after_commit`: what a service registers runs once the request has committed, in order,
never after a rollback, and a failing effect neither breaks the response nor the others.
Checked through the real `get_session` and through the test harness's session."""

from collections.abc import AsyncIterator

import pytest
from fastapi import APIRouter, FastAPI
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from roadmap_shared.after_commit import (
    after_commit,
    discard_pending_effects,
    run_pending_effects,
)
from roadmap_shared.app import create_app
from roadmap_shared.database import Database, SessionDep
from roadmap_shared.errors import Conflict
from roadmap_shared.settings import AppSettings
from tests.sample_app.models import Note


class Log:
    """What the effects saw: the note's text as another connection reads it (None: not
    committed yet), or a marker."""

    def __init__(self) -> None:
        self.entries: list[str | None] = []


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
async def app(
    settings: AppSettings, database_url: str, db_engine: AsyncEngine, log: Log
) -> AsyncIterator[FastAPI]:
    """One route that writes a note and registers effects, the way a service would."""
    router = APIRouter()

    @router.post("/notes/{text}")
    async def add(text: str, session: SessionDep) -> None:
        session.add(Note(text=text))
        await session.flush()

        async def read_it_back_elsewhere() -> None:
            async with db_engine.connect() as other:
                log.entries.append(await other.scalar(select(Note.text).where(Note.text == text)))

        async def broken() -> None:
            raise RuntimeError("the cache server is on fire")

        async def last() -> None:
            log.entries.append("last")

        after_commit(session, read_it_back_elsewhere)
        if "broken" in text:
            after_commit(session, broken)
        after_commit(session, last)
        if text.startswith("fail"):
            raise Conflict("the handler fails after registering its effects")

    app = create_app(settings, title="after-commit", routers=[router])
    app.state.database = database = Database(database_url)
    yield app
    await database.dispose()


@pytest.mark.slow
async def test_effects_run_after_the_real_commit_in_order(
    committing_client: AsyncClient, log: Log
) -> None:
    response = await committing_client.post("/notes/kept")

    assert response.status_code == 200
    # Another connection already sees the row: the effect ran after the commit, not before.
    assert log.entries == ["kept", "last"]


@pytest.mark.slow
async def test_a_failed_request_runs_none_of_its_effects(
    committing_client: AsyncClient, log: Log
) -> None:
    failed = await committing_client.post("/notes/fail")
    succeeded = await committing_client.post("/notes/next")

    assert (failed.status_code, succeeded.status_code) == (409, 200)
    # Nothing of the failed request ran, then or with the next request's effects.
    assert log.entries == ["next", "last"]


@pytest.mark.slow
async def test_a_failing_effect_is_logged_and_neither_breaks_the_response_nor_the_others(
    committing_client: AsyncClient, log: Log, caplog: pytest.LogCaptureFixture
) -> None:
    response = await committing_client.post("/notes/broken")

    assert response.status_code == 200
    assert log.entries == ["broken", "last"]
    assert "after-commit effect failed" in caplog.text
    assert "the cache server is on fire" in caplog.text


async def test_the_harness_runs_effects_when_the_request_would_have_committed(
    client: AsyncClient, log: Log
) -> None:
    # The test transaction never commits, so other connections never see the row (None);
    # what matters is that the effects ran, once, by the time the response arrived.
    succeeded = await client.post("/notes/kept")
    assert (succeeded.status_code, log.entries) == (200, [None, "last"])

    failed = await client.post("/notes/fail")
    assert (failed.status_code, log.entries) == (409, [None, "last"])

    # The failed request's effects were dropped, not left for the next request to run.
    await client.post("/notes/next")
    assert log.entries == [None, "last", None, "last"]


async def test_the_same_effect_registered_twice_runs_once(db_session: AsyncSession) -> None:
    runs: list[str] = []

    async def forget_the_list() -> None:
        runs.append("forgotten")

    after_commit(db_session, forget_the_list)
    after_commit(db_session, forget_the_list)
    await run_pending_effects(db_session)
    await run_pending_effects(db_session)  # nothing left the second time

    assert runs == ["forgotten"]


async def test_discarded_effects_never_run(db_session: AsyncSession) -> None:
    runs: list[str] = []

    async def effect() -> None:
        runs.append("ran")

    after_commit(db_session, effect)
    discard_pending_effects(db_session)
    await run_pending_effects(db_session)

    assert runs == []

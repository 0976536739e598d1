"""`AfterCommit`: effects run once the request's transaction is committed, and only then."""

from collections.abc import AsyncIterator

import pytest
from fastapi import APIRouter, FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from roadmap_shared.app import create_app
from roadmap_shared.database import Database
from roadmap_shared.errors import Conflict
from shop.config import Settings
from shop.dependencies import AFTER_COMMIT, AfterCommitDep, SessionDep
from shop.models import Category


@pytest.fixture
async def app_and_log(
    settings: Settings, database_url: str, db_engine: AsyncEngine
) -> AsyncIterator[tuple[FastAPI, list[str | None]]]:
    """A tiny app whose one route writes a row and registers an effect that reads it back
    through another connection: what the effect sees is what was committed."""
    seen: list[str | None] = []
    router = APIRouter(dependencies=[AFTER_COMMIT])

    @router.post("/categories/{slug}")
    async def add(slug: str, session: SessionDep, after_commit: AfterCommitDep) -> None:
        session.add(Category(name=slug, slug=slug))
        await session.flush()

        async def read_it_back() -> None:
            async with db_engine.connect() as other:
                query = select(Category.slug).where(Category.slug == slug)
                seen.append(await other.scalar(query))

        after_commit.add(read_it_back)
        if slug.startswith("fail"):
            raise Conflict("the handler fails after registering the effect")

    app = create_app(settings, title="after-commit", routers=[router])
    app.state.database = database = Database(database_url)
    yield app, seen
    await database.dispose()
    async with db_engine.begin() as connection:  # these requests committed for real
        await connection.execute(delete(Category).where(Category.slug.in_(["ok", "fail"])))


async def test_an_effect_runs_after_the_commit_and_never_for_a_failed_request(
    app_and_log: tuple[FastAPI, list[str | None]],
) -> None:
    app, seen = app_and_log
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        succeeded = await http.post("/categories/ok")
        failed = await http.post("/categories/fail")

    assert (succeeded.status_code, failed.status_code) == (200, 409)
    assert seen == ["ok"]  # committed when the effect ran; nothing ran for the failure

"""The app factory: `create_app()` builds the book API from settings.

There is no database in this stage: the books live in one JSON file (see `storage.py`).
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from books_api.config import Settings, get_settings
from books_api.router import router
from books_api.storage import JsonFileStorage, StorageBusy
from roadmap_shared.app import create_app as create_base_app
from roadmap_shared.errors import problem_response

DESCRIPTION = """A book collection over HTTP, stored in a JSON file.

Writes to an existing book need `If-Match` with the ETag you last saw (or `*`):
a stale one gets 412, a missing one 428.
"""


def build_storage(settings: Settings) -> JsonFileStorage:
    return JsonFileStorage(settings.data_file, lock_timeout_seconds=settings.lock_timeout_seconds)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    storage = build_storage(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # A missing or corrupt file stops the server here, before it answers anything.
        storage.open(create_if_missing=settings.create_data_file)
        yield

    async def data_file_is_readable() -> None:
        await asyncio.to_thread(storage.read)

    app = create_base_app(
        settings,
        title="Books API",
        description=DESCRIPTION,
        routers=[router],
        lifespan=lifespan,
        readiness_checks={"data_file": data_file_is_readable},
    )
    app.state.storage = storage
    app.add_exception_handler(StorageBusy, _storage_busy)
    return app


async def _storage_busy(_: Request, __: Exception) -> Response:
    # Another writer held the lock too long: a temporary condition, so say when to retry.
    return problem_response(
        503, detail="The book store is busy; try again shortly.", headers={"Retry-After": "1"}
    )

"""The JSON file: created when allowed, never half-written, never silently overwritten."""

import json
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from asgi_lifespan import LifespanManager
from filelock import FileLock
from httpx import ASGITransport, AsyncClient

from books_api.config import Settings
from books_api.main import create_app
from books_api.storage import BookFile, DataFileError, JsonFileStorage, StorageBusy
from tests.factories import book_data, create_book

CORRUPT = b'{"next_id": 2, "books": [{"id": 1, "title": "Half a bo'
STORED_BOOK = {
    "id": 3,
    "title": "Clean Code",
    "author": "Robert C. Martin",
    "isbn": "9780132350884",
    "year": 2008,
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}


def storage_at(path: Path) -> JsonFileStorage:
    return JsonFileStorage(path, lock_timeout_seconds=0.2)


@asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[AsyncClient]:
    """A client for a second app on the same settings (a restart, or other settings)."""
    async with (
        LifespanManager(create_app(settings)) as running,
        AsyncClient(transport=ASGITransport(app=running.app), base_url="http://testserver") as c,
    ):
        yield c


def test_a_missing_file_starts_an_empty_store_when_allowed(data_file: Path) -> None:
    storage_at(data_file).open(create_if_missing=True)

    assert json.loads(data_file.read_text()) == {"next_id": 1, "books": []}


def test_a_missing_file_is_a_startup_error_when_creating_is_off(data_file: Path) -> None:
    with pytest.raises(DataFileError, match="does not exist"):
        storage_at(data_file).open(create_if_missing=False)
    assert not data_file.exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (CORRUPT, "EOF while parsing"),
        (b"[]", "Input should be an object"),
        (b'{"next_id": 1, "books": [{"id": 1}]}', "books.0.title: Field required"),
        (json.dumps({"next_id": 9, "books": [STORED_BOOK] * 2}).encode(), "share an id"),
        (json.dumps({"next_id": 3, "books": [STORED_BOOK]}).encode(), "next_id must be greater"),
    ],
)
def test_an_invalid_file_is_a_startup_error_and_is_left_untouched(
    data_file: Path, content: bytes, reason: str
) -> None:
    data_file.parent.mkdir()
    data_file.write_bytes(content)

    with pytest.raises(DataFileError, match="is not valid") as error:
        storage_at(data_file).open(create_if_missing=True)

    assert reason in str(error.value)
    assert str(data_file) in str(error.value)
    assert data_file.read_bytes() == content


@pytest.mark.parametrize(
    "content",
    [
        {"next_id": 4, "books": [STORED_BOOK | {"publisher": "Prentice Hall"}]},
        {"next_id": 4, "books": [STORED_BOOK], "format_version": 2},
    ],
)
def test_a_field_the_code_does_not_know_is_refused_not_dropped_at_the_next_write(
    data_file: Path, content: dict[str, object]
) -> None:
    data_file.parent.mkdir()
    data_file.write_text(json.dumps(content))

    with pytest.raises(DataFileError, match="Extra inputs are not permitted"):
        storage_at(data_file).open(create_if_missing=True)

    assert json.loads(data_file.read_text()) == content


def test_an_unreadable_file_is_a_startup_error(data_file: Path) -> None:
    data_file.mkdir(parents=True)  # a directory where the file should be

    with pytest.raises(DataFileError, match="Cannot read the data file"):
        storage_at(data_file).open(create_if_missing=True)


def test_a_write_replaces_the_file_instead_of_rewriting_it(data_file: Path) -> None:
    storage = storage_at(data_file)
    storage.open(create_if_missing=True)
    inode_before = data_file.stat().st_ino

    with storage.transaction() as data:
        data.next_id = 5

    # A new file was renamed into place, and no temporary file is left behind.
    assert data_file.stat().st_ino != inode_before
    assert storage.read().next_id == 5
    assert sorted(path.name for path in data_file.parent.iterdir()) == [
        "books.json",
        "books.json.lock",
    ]


def test_a_transaction_that_fails_writes_nothing(data_file: Path) -> None:
    storage = storage_at(data_file)
    storage.open(create_if_missing=True)
    before = data_file.read_bytes()

    def change_then_fail() -> None:
        with storage.transaction() as data:
            data.next_id = 99
            raise RuntimeError("a rule check failed")

    with pytest.raises(RuntimeError):
        change_then_fail()

    assert data_file.read_bytes() == before


def test_a_write_that_fails_before_the_rename_leaves_the_old_file(
    data_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = storage_at(data_file)
    storage.open(create_if_missing=True)
    before = data_file.read_bytes()

    def disk_full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"), storage.transaction() as data:
        data.next_id = 99

    assert data_file.read_bytes() == before
    assert not list(data_file.parent.glob("*.tmp"))


def test_a_writer_waits_for_the_lock_and_gives_up_after_the_timeout(data_file: Path) -> None:
    storage = storage_at(data_file)
    storage.open(create_if_missing=True)

    with FileLock(f"{data_file}.lock"), pytest.raises(StorageBusy), storage.transaction():
        pass


def test_threads_of_one_process_wait_for_each_other_too(data_file: Path) -> None:
    storage = storage_at(data_file)
    storage.open(create_if_missing=True)
    inside, done = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with storage.transaction():
            inside.set()
            done.wait(10)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert inside.wait(10)
        with pytest.raises(StorageBusy), storage.transaction():
            pass
    finally:
        done.set()
        holder.join(10)


def test_a_file_deleted_while_running_is_an_error_not_a_fresh_start(data_file: Path) -> None:
    storage = storage_at(data_file)
    storage.open(create_if_missing=True)
    data_file.unlink()

    with pytest.raises(DataFileError, match="has disappeared"), storage.transaction():
        pass
    assert not data_file.exists()


def test_the_file_is_readable_json_with_one_book_per_entry(data_file: Path) -> None:
    storage = storage_at(data_file)
    storage.open(create_if_missing=True)
    with storage.transaction() as data:
        data.next_id = 3

    text = data_file.read_text()
    assert text.endswith("\n")
    assert BookFile.model_validate_json(text) == BookFile(next_id=3)


# --- the same guarantees, seen through the API ----------------------------------------


async def test_the_app_refuses_to_start_on_a_corrupt_file(
    settings: Settings, data_file: Path
) -> None:
    await anyio.Path(data_file.parent).mkdir()
    await anyio.Path(data_file).write_bytes(CORRUPT)

    with pytest.raises(DataFileError, match="is not valid"):
        async with LifespanManager(create_app(settings)):
            pass
    assert await anyio.Path(data_file).read_bytes() == CORRUPT


async def test_books_survive_a_restart(settings: Settings, client: AsyncClient) -> None:
    book = await create_book(client)

    async with started(settings) as restarted:
        assert (await restarted.get(book.url)).json() == book.body


async def test_a_file_corrupted_while_running_is_reported_and_not_overwritten(
    client: AsyncClient, data_file: Path
) -> None:
    await create_book(client)
    await anyio.Path(data_file).write_bytes(CORRUPT)

    write = await client.post("/books", json=book_data())
    ready = await client.get("/readyz")

    assert write.status_code == 500
    assert write.headers["content-type"] == "application/problem+json"
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"data_file": "failed: DataFileError"}
    assert await anyio.Path(data_file).read_bytes() == CORRUPT


async def test_a_write_that_cannot_get_the_lock_is_told_to_retry(
    settings: Settings, data_file: Path
) -> None:
    async with started(settings.model_copy(update={"lock_timeout_seconds": 0.2})) as client:
        with FileLock(f"{data_file}.lock"):
            response = await client.post("/books", json=book_data())
        # Reads take no lock, so they go on while a write holds it.
        with FileLock(f"{data_file}.lock"):
            listed = await client.get("/books")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"] == "application/problem+json"
    assert listed.status_code == 200


async def test_readiness_reports_a_readable_data_file(client: AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"data_file": "ok"}}

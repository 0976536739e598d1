"""Exercise 3 (hard): keep the parsed file in memory, re-read only when it has changed.
`make exercise STAGE=stage1-http-server N=3`"""

import json
import os
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from books_api.storage import JsonFileStorage
from tests.factories import create_book

pytestmark = pytest.mark.exercise
TODO = "Exercise 3: keep the parsed data file in memory (see the README)"


def rewrite_in_place_keeping_its_stat(path: Path, old: bytes, new: bytes) -> None:
    """Edit the file's bytes without changing its inode, size or modification time: a
    cache keyed on those cannot see this edit, which is how the test knows there is one."""
    assert len(old) == len(new)
    before = path.stat()
    content = path.read_bytes()
    with path.open("r+b") as file:
        file.write(content.replace(old, new))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def replace_like_another_process(path: Path, title: str) -> None:
    data = json.loads(path.read_text())
    data["books"][0]["title"] = title
    temporary = path.with_suffix(".other")
    temporary.write_text(json.dumps(data))
    os.replace(temporary, path)  # a new inode, as every write by the app makes


async def test_an_unchanged_file_is_not_parsed_again(client: AsyncClient, data_file: Path) -> None:
    book = await create_book(client, title="Cached title")
    await client.get(book.url)  # the file as written, now read once
    rewrite_in_place_keeping_its_stat(data_file, b"Cached title", b"Edited title")
    response = await client.get(book.url)
    assert response.json()["title"] == "Cached title", (
        f"{TODO}: GET read the file again although its inode, mtime and size are unchanged"
    )


async def test_a_write_by_another_process_is_seen_by_the_next_read(
    client: AsyncClient, data_file: Path
) -> None:
    book = await create_book(client, title="Cached title")
    await client.get(book.url)
    replace_like_another_process(data_file, "Written elsewhere")
    response = await client.get(book.url)
    assert response.json()["title"] == "Written elsewhere"
    rewrite_in_place_keeping_its_stat(data_file, b"Written elsewhere", b"WRITTEN ELSEWHERE")
    response = await client.get(book.url)
    assert response.json()["title"] == "Written elsewhere", (
        f"{TODO}: once re-read, the file is cached again"
    )


async def test_a_failed_transaction_cannot_change_what_readers_see(
    client: AsyncClient, app: FastAPI, data_file: Path
) -> None:
    book = await create_book(client, title="Cached title")
    await client.get(book.url)  # the file as written, now read once
    rewrite_in_place_keeping_its_stat(data_file, b"Cached title", b"Edited title")
    storage: JsonFileStorage = app.state.storage

    def failing_change() -> None:
        with storage.transaction() as data:
            data.books[0].title = "Half-made change"
            raise RuntimeError("the change fails before it is written")

    with pytest.raises(RuntimeError):
        failing_change()
    response = await client.get(book.url)
    assert response.json()["title"] == "Cached title", (
        f"{TODO}: readers must not see a transaction's uncommitted change, nor the edit "
        "that the cache hides"
    )

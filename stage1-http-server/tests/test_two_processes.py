"""Two server processes writing to one data file: the file lock serialises their writes."""

import asyncio
import json
import os
from pathlib import Path

import anyio
import httpx
import pytest

from books_api.storage import BookFile
from roadmap_shared.bench import running_server
from tests.factories import book_data

APP = "books_api.main:create_app"
CREATES = 50


@pytest.mark.slow
async def test_fifty_creates_across_two_processes_all_land_in_a_valid_file(
    data_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The servers inherit the environment and working directory: keep the developer's
    # BOOKS_* variables and `.env` out of them.
    for name in [name for name in os.environ if name.startswith("BOOKS_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    env = {"BOOKS_DATA_FILE": str(data_file), "BOOKS_LOG_LEVEL": "WARNING"}
    with running_server(APP, env) as first, running_server(APP, env) as second:
        async with httpx.AsyncClient(timeout=30) as http:
            responses = await asyncio.gather(
                *(
                    http.post(f"{(first, second)[n % 2]}/books", json=book_data(title=f"Book {n}"))
                    for n in range(CREATES)
                )
            )
            listed = [
                (await http.get(f"{server}/books", params={"size": 100})).json()
                for server in (first, second)
            ]

    assert [response.status_code for response in responses] == [201] * CREATES
    ids = sorted(response.json()["id"] for response in responses)
    assert ids == list(range(1, CREATES + 1))
    # Both processes see every book: neither kept a stale copy.
    assert [page["total"] for page in listed] == [CREATES, CREATES]
    stored = BookFile.model_validate_json(await anyio.Path(data_file).read_bytes())
    assert {book.title for book in stored.books} == {f"Book {n}" for n in range(CREATES)}
    assert stored.next_id == CREATES + 1
    assert isinstance(json.loads(await anyio.Path(data_file).read_text()), dict)

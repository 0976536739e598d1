"""Stage 1 benchmark: what the JSON file costs, measured against `/healthz` in the same run.

Every request reads and validates the whole file (500 books here), and every write also
takes the lock, writes a temporary file, fsyncs it and renames it. The ratios to the
baseline show what that costs; the absolute numbers depend on the machine.

Run from the stage folder: `uv run --no-sync python benchmarks/bench.py` (`make bench`).
"""

import asyncio
import itertools
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import httpx

from books_api.schemas import Book
from books_api.storage import BookFile
from roadmap_shared.bench import Result, measure, print_section, running_server

SEEDED_BOOKS = 500
READS = 400
WRITES = 100
CONCURRENCY = 10


def isbn13(serial: int) -> str:
    body = f"978{serial:09d}"
    weighted = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(body))
    return body + str(-weighted % 10)


def seed(data_file: Path) -> None:
    now = datetime.now(UTC)
    books = [
        Book(
            id=n,
            title=f"Volume {n} of the collected works",
            author=f"Author {n % 50}",
            isbn=isbn13(n),
            year=1900 + n % 120,
            created_at=now,
            updated_at=now,
        )
        for n in range(1, SEEDED_BOOKS + 1)
    ]
    data_file.write_text(BookFile(next_id=SEEDED_BOOKS + 1, books=books).model_dump_json())


async def run(base_url: str) -> tuple[Result, list[Result]]:
    ids = itertools.cycle(range(1, SEEDED_BOOKS + 1))
    serials = itertools.count(SEEDED_BOOKS + 1)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        etag = (await client.get("/books/1")).headers["etag"]

        async def healthz(c: httpx.AsyncClient) -> httpx.Response:
            return await c.get("/healthz")

        async def list_page(c: httpx.AsyncClient) -> httpx.Response:
            return await c.get("/books")

        async def search(c: httpx.AsyncClient) -> httpx.Response:
            return await c.get("/books", params={"q": "volume 1", "sort": "-year"})

        async def get_one(c: httpx.AsyncClient) -> httpx.Response:
            return await c.get(f"/books/{next(ids)}")

        async def not_modified(c: httpx.AsyncClient) -> httpx.Response:
            response = await c.get("/books/1", headers={"If-None-Match": etag})
            # `measure` counts anything but 2xx as an error; here 304 is the success.
            return httpx.Response(200 if response.status_code == 304 else 500)

        async def create(c: httpx.AsyncClient) -> httpx.Response:
            book = {"title": "New", "author": "Bench", "isbn": isbn13(next(serials)), "year": 2020}
            return await c.post("/books", json=book)

        await measure(client, "warm-up", healthz, total=100, concurrency=CONCURRENCY)
        baseline = await measure(
            client, "GET /healthz", healthz, total=READS, concurrency=CONCURRENCY
        )
        results = [
            await measure(client, name, request, total=total, concurrency=CONCURRENCY)
            for name, request, total in [
                ("GET /books (page of 20)", list_page, READS),
                ("GET /books?q=&sort=-year", search, READS),
                ("GET /books/{id}", get_one, READS),
                ("GET /books/1 If-None-Match (304)", not_modified, READS),
                ("POST /books (lock + fsync)", create, WRITES),
            ]
        ]
    return baseline, results


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        data_file = Path(directory) / "books.json"
        seed(data_file)
        env = {"BOOKS_DATA_FILE": str(data_file), "BOOKS_LOG_LEVEL": "WARNING"}
        with running_server("books_api.main:create_app", env) as base_url:
            baseline, results = asyncio.run(run(base_url))
    print_section(
        f"Stage 1: books in a JSON file ({SEEDED_BOOKS} books, {CONCURRENCY} concurrent)",
        results,
        baseline,
    )


if __name__ == "__main__":
    main()

"""Small functions that make test data."""

import itertools
from typing import Any, NamedTuple

from httpx import AsyncClient

_serial = itertools.count(1)


def isbn13(serial: int) -> str:
    """A valid ISBN-13 (978 prefix, correct check digit) for any serial number."""
    body = f"978{serial:09d}"
    weighted = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(body))
    return body + str(-weighted % 10)


def book_data(**overrides: Any) -> dict[str, Any]:
    """The JSON body of a valid book; each call gets an ISBN of its own."""
    return {
        "title": "The Pragmatic Programmer",
        "author": "Andrew Hunt",
        "isbn": isbn13(next(_serial)),
        "year": 1999,
        **overrides,
    }


class CreatedBook(NamedTuple):
    body: dict[str, Any]
    etag: str

    @property
    def id(self) -> int:
        return int(self.body["id"])

    @property
    def url(self) -> str:
        return f"/books/{self.id}"


async def create_book(client: AsyncClient, **overrides: Any) -> CreatedBook:
    response = await client.post("/books", json=book_data(**overrides))
    assert response.status_code == 201, response.text
    return CreatedBook(response.json(), response.headers["etag"])

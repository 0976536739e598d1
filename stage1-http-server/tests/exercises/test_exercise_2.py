"""Exercise 2 (medium): conditional requests for the list and Last-Modified for a book.
`make exercise STAGE=stage1-http-server N=2`"""

from datetime import datetime
from email.utils import parsedate_to_datetime

import pytest
from httpx import AsyncClient

from tests.factories import create_book

pytestmark = pytest.mark.exercise
TODO = "Exercise 2: conditional GET for /books and Last-Modified for a book (see the README)"


async def test_the_list_has_an_etag_and_answers_304_while_it_is_unchanged(
    client: AsyncClient,
) -> None:
    await create_book(client)
    first = await client.get("/books")
    etag = first.headers.get("etag")
    assert etag, f"{TODO}: GET /books must send an ETag"
    again = await client.get("/books", headers={"If-None-Match": etag})
    assert again.status_code == 304, f"{TODO}: If-None-Match with the current ETag gets 304"
    assert again.content == b""
    assert again.headers["etag"] == etag


async def test_the_list_etag_changes_with_the_page(client: AsyncClient) -> None:
    await create_book(client)
    etag = (await client.get("/books")).headers.get("etag")
    assert etag, f"{TODO}: GET /books must send an ETag"
    await create_book(client)
    changed = await client.get("/books", headers={"If-None-Match": etag})
    assert changed.status_code == 200, f"{TODO}: a write changes the list's ETag"
    other_page = await client.get("/books", params={"size": 1, "page": 2})
    assert other_page.headers["etag"] != changed.headers["etag"], f"{TODO}: one ETag per page"


async def test_a_book_has_last_modified_and_answers_if_modified_since(
    client: AsyncClient,
) -> None:
    book = await create_book(client)
    response = await client.get(book.url)
    last_modified = response.headers.get("last-modified")
    assert last_modified, f"{TODO}: GET /books/{{id}} must send Last-Modified"
    updated_at = datetime.fromisoformat(book.body["updated_at"].replace("Z", "+00:00"))
    assert parsedate_to_datetime(last_modified) == updated_at.replace(microsecond=0), (
        f"{TODO}: Last-Modified is updated_at, to the second"
    )
    again = await client.get(book.url, headers={"If-Modified-Since": last_modified})
    assert again.status_code == 304, f"{TODO}: If-Modified-Since at Last-Modified gets 304"

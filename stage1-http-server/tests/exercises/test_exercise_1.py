"""Exercise 1 (easy): an optional `pages` field. `make exercise STAGE=stage1-http-server N=1`"""

import pytest
from httpx import AsyncClient

from tests.factories import book_data, create_book

pytestmark = pytest.mark.exercise
TODO = "Exercise 1: add an optional `pages` field to books (see the README)"


async def test_a_book_keeps_its_page_count(client: AsyncClient) -> None:
    response = await client.post("/books", json=book_data(pages=320))
    assert response.status_code == 201, f"{TODO}: POST /books must accept pages"
    assert response.json()["pages"] == 320
    fetched = await client.get(response.headers["location"])
    assert fetched.json()["pages"] == 320


async def test_pages_are_a_positive_integer_of_at_most_10000(client: AsyncClient) -> None:
    for pages in [0, -3, 10_001, "320", 12.5]:
        response = await client.post("/books", json=book_data(pages=pages))
        assert response.status_code == 422, f"{TODO}: pages={pages!r} must be refused"
        assert "pages" in response.text, f"{TODO}: the problem names the field"


async def test_a_book_without_pages_shows_null_and_a_patch_may_erase_them(
    client: AsyncClient,
) -> None:
    plain = await create_book(client)
    assert "pages" in plain.body, f"{TODO}: every book shows `pages`, null when unknown"
    assert plain.body["pages"] is None
    counted = await create_book(client, pages=100)
    response = await client.patch(counted.url, json={"pages": None}, headers={"If-Match": "*"})
    assert response.status_code == 200, f"{TODO}: PATCH may set pages to null"
    assert response.json()["pages"] is None


async def test_the_list_filters_by_page_count(client: AsyncClient) -> None:
    for pages in [90, 300, 420, None]:
        await create_book(client, title=f"{pages} pages", pages=pages)
    response = await client.get("/books", params={"min_pages": 100, "max_pages": 400})
    titles = [book["title"] for book in response.json()["items"]]
    assert titles == ["300 pages"], f"{TODO}: filter with min_pages and max_pages"
    refused = await client.get("/books", params={"min_pages": 400, "max_pages": 100})
    assert refused.status_code == 422, f"{TODO}: min_pages after max_pages is refused"

"""What a book must look like: every rule is refused with 422 and says which field is wrong."""

from datetime import UTC, datetime
from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import book_data, create_book

PROBLEM = "application/problem+json"


def error_types(response_json: dict[str, Any]) -> dict[tuple[str | int, ...], str]:
    return {tuple(error["loc"]): error["type"] for error in response_json["errors"]}


@pytest.mark.parametrize("field", ["title", "author", "isbn", "year"])
async def test_every_field_is_required(client: AsyncClient, field: str) -> None:
    body = book_data()
    del body[field]

    response = await client.post("/books", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert error_types(response.json()) == {("body", field): "missing"}


async def test_an_unknown_field_is_refused_not_ignored(client: AsyncClient) -> None:
    response = await client.post("/books", json=book_data(autor="typo of author"))
    assert response.status_code == 422
    assert error_types(response.json()) == {("body", "autor"): "extra_forbidden"}


async def test_the_server_sets_the_id_and_timestamps(client: AsyncClient) -> None:
    response = await client.post("/books", json=book_data(id=7, created_at="2000-01-01T00:00:00Z"))
    assert response.status_code == 422
    assert set(error_types(response.json())) == {("body", "id"), ("body", "created_at")}


@pytest.mark.parametrize(
    ("isbn", "reason"),
    [
        ("9780132350885", "check digit"),  # Clean Code's ISBN with the last digit changed
        ("978013235088", "13 digits"),
        ("97801323508845", "13 digits"),
        ("978013235088X", "13 digits"),
        ("978-0-13-235088-٤", "13 digits"),  # an Arabic-Indic digit is still not ASCII
        ("1234567890128", "978 or 979"),  # a valid EAN-13 checksum, but not a book
        ("", "13 digits"),
    ],
)
async def test_an_isbn_must_be_a_valid_isbn_13(client: AsyncClient, isbn: str, reason: str) -> None:
    response = await client.post("/books", json=book_data(isbn=isbn))

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["loc"] == ["body", "isbn"]
    assert reason in error["msg"]


async def test_a_979_isbn_is_accepted(client: AsyncClient) -> None:
    response = await client.post("/books", json=book_data(isbn="979-10-90636-07-1"))
    assert response.status_code == 201
    assert response.json()["isbn"] == "9791090636071"


async def test_the_year_must_be_in_the_age_of_print(client: AsyncClient) -> None:
    next_year = datetime.now(UTC).year + 1
    assert (await client.post("/books", json=book_data(year=1450))).status_code == 201
    assert (await client.post("/books", json=book_data(year=next_year))).status_code == 201

    for year in (1449, next_year + 1, -5):
        response = await client.post("/books", json=book_data(year=year))
        assert response.status_code == 422, year
        assert list(error_types(response.json())) == [("body", "year")]


@pytest.mark.parametrize("year", ["1999", 1999.0, True, None])
async def test_the_year_must_be_a_json_integer(client: AsyncClient, year: object) -> None:
    # Strict types: a number in quotes is a client bug worth reporting, not guessing at.
    response = await client.post("/books", json=book_data(year=year))
    assert response.status_code == 422
    assert list(error_types(response.json())) == [("body", "year")]


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", ""), ("title", "   "), ("title", "x" * 301), ("author", ""), ("author", 42)],
)
async def test_title_and_author_must_be_short_non_empty_text(
    client: AsyncClient, field: str, value: object
) -> None:
    response = await client.post("/books", json=book_data(**{field: value}))
    assert response.status_code == 422
    assert list(error_types(response.json())) == [("body", field)]


@pytest.mark.parametrize("field", ["title", "author"])
@pytest.mark.parametrize("value", ["Clean\x00Code", "Clean\nCode", "\x1b[2JClean Code"])
async def test_title_and_author_may_not_hide_control_characters(
    client: AsyncClient, field: str, value: str
) -> None:
    response = await client.post("/books", json=book_data(**{field: value}))

    assert response.status_code == 422
    assert list(error_types(response.json())) == [("body", field)]
    assert "control characters" in response.json()["errors"][0]["msg"]


async def test_the_body_must_be_a_json_object(client: AsyncClient) -> None:
    response = await client.post("/books", json=[book_data()])
    assert response.status_code == 422

    response = await client.post(
        "/books", content=b'{"title": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert error_types(response.json()) == {("body", 10): "json_invalid"}


async def test_a_body_that_is_not_json_is_an_unsupported_media_type(client: AsyncClient) -> None:
    book = await create_book(client)
    form = {"title": "Clean Code", "author": "Robert C. Martin"}
    headers = {"If-Match": book.etag}

    responses = [
        await client.post("/books", data=form),
        await client.post("/books", content=b"{}", headers={"Content-Type": "text/plain"}),
        await client.post("/books", content=b"{}"),  # no Content-Type at all
        await client.put(book.url, data=form, headers=headers),
        await client.patch(book.url, data=form, headers=headers),
    ]

    for response in responses:
        assert response.status_code == 415
        assert response.headers["content-type"] == PROBLEM


async def test_json_with_a_charset_or_a_json_suffix_is_accepted(client: AsyncClient) -> None:
    book = await create_book(client)
    response = await client.patch(
        book.url,
        content=b'{"year": 2001}',
        headers={"Content-Type": "application/merge-patch+json", "If-Match": book.etag},
    )
    assert response.status_code == 200
    response = await client.post(
        "/books",
        content=b'{"title": "T", "author": "A", "isbn": "9780132350884", "year": 2008}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201


async def test_a_body_over_the_size_limit_is_refused_before_it_is_read(
    client: AsyncClient,
) -> None:
    # The test settings allow 2,048 bytes.
    response = await client.post("/books", json=book_data(title="x" * 3000))

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert (await client.get("/books")).json()["total"] == 0


async def test_a_patch_may_leave_fields_out_but_not_null_them(client: AsyncClient) -> None:
    book = await create_book(client)

    response = await client.patch(
        book.url, json={"title": None, "year": None}, headers={"If-Match": book.etag}
    )

    assert response.status_code == 422
    assert set(error_types(response.json())) == {("body", "title"), ("body", "year")}


async def test_a_patch_is_validated_like_a_whole_book(client: AsyncClient) -> None:
    book = await create_book(client)

    response = await client.patch(
        book.url,
        json={"isbn": "9780132350885", "year": 1000, "edition": 2},
        headers={"If-Match": book.etag},
    )

    assert response.status_code == 422
    assert set(error_types(response.json())) == {
        ("body", "isbn"),
        ("body", "year"),
        ("body", "edition"),
    }
    assert (await client.get(book.url)).json() == book.body

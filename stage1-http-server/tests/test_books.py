"""Create, read, replace, update and delete a book: the happy paths and what goes wrong."""

from datetime import datetime

from httpx import AsyncClient

from tests.factories import book_data, create_book, isbn13

PROBLEM = "application/problem+json"


async def test_creating_a_book_returns_it_with_its_location_and_etag(client: AsyncClient) -> None:
    response = await client.post(
        "/books",
        json={
            "title": "Clean Code",
            "author": "Robert C. Martin",
            "isbn": "978-0-13-235088-4",
            "year": 2008,
        },
    )

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    book = response.json()
    assert book["id"] == 1
    assert response.headers["location"] == "/books/1"
    assert response.headers["etag"].startswith('"')
    # The ISBN is stored as digits only, whatever hyphens it was written with.
    assert {key: book[key] for key in ("title", "author", "isbn", "year")} == {
        "title": "Clean Code",
        "author": "Robert C. Martin",
        "isbn": "9780132350884",
        "year": 2008,
    }
    assert datetime.fromisoformat(book["created_at"]) == datetime.fromisoformat(book["updated_at"])


async def test_surrounding_whitespace_is_trimmed(client: AsyncClient) -> None:
    book = await create_book(client, title="  Refactoring ", author=" Martin Fowler")
    assert (book.body["title"], book.body["author"]) == ("Refactoring", "Martin Fowler")


async def test_a_created_book_can_be_fetched_at_its_location(client: AsyncClient) -> None:
    created = await create_book(client)

    response = await client.get(created.url)

    assert response.status_code == 200
    assert response.json() == created.body
    assert response.headers["etag"] == created.etag


async def test_ids_are_never_reused_after_a_delete(client: AsyncClient) -> None:
    first = await create_book(client)
    await client.delete(first.url, headers={"If-Match": first.etag})

    second = await create_book(client)

    assert second.id == first.id + 1


async def test_an_unknown_book_is_not_found(client: AsyncClient) -> None:
    response = await client.get("/books/999")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "There is no book with id 999."


async def test_a_book_id_must_be_a_positive_number(client: AsyncClient) -> None:
    # One past int64's maximum, the bound the document states, is refused like the rest.
    for path in ("/books/abc", "/books/0", "/books/-1", f"/books/{2**63}"):
        response = await client.get(path)
        assert response.status_code == 422, path
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["errors"][0]["loc"] == ["path", "book_id"]


async def test_a_second_book_with_the_same_isbn_is_a_conflict(client: AsyncClient) -> None:
    await create_book(client, isbn="9780132350884")

    # The same ISBN written differently is still the same ISBN.
    response = await client.post("/books", json=book_data(isbn="978 0 13 235088 4"))

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "Another book already has the ISBN 9780132350884."
    assert (await client.get("/books")).json()["total"] == 1


async def test_replacing_a_book_changes_every_field(client: AsyncClient) -> None:
    created = await create_book(client)
    replacement = book_data(title="Domain-Driven Design", author="Eric Evans", year=2003)

    response = await client.put(created.url, json=replacement, headers={"If-Match": created.etag})

    assert response.status_code == 200
    book = response.json()
    assert {key: book[key] for key in replacement} == replacement
    assert book["created_at"] == created.body["created_at"]
    assert book["updated_at"] >= created.body["updated_at"]
    assert response.headers["etag"] != created.etag
    assert (await client.get(created.url)).json() == book


async def test_replacing_needs_the_whole_book(client: AsyncClient) -> None:
    created = await create_book(client)

    response = await client.put(
        created.url, json={"title": "Only a title"}, headers={"If-Match": created.etag}
    )

    assert response.status_code == 422
    missing = {tuple(error["loc"]) for error in response.json()["errors"]}
    assert missing == {("body", "author"), ("body", "isbn"), ("body", "year")}


async def test_replacing_with_another_books_isbn_is_a_conflict(client: AsyncClient) -> None:
    taken = await create_book(client)
    book = await create_book(client)

    response = await client.put(
        book.url, json=book_data(isbn=taken.body["isbn"]), headers={"If-Match": book.etag}
    )

    assert response.status_code == 409
    assert (await client.get(book.url)).json() == book.body


async def test_a_book_may_keep_its_own_isbn_when_replaced(client: AsyncClient) -> None:
    book = await create_book(client)

    response = await client.put(
        book.url,
        json=book_data(isbn=book.body["isbn"], title="Second edition"),
        headers={"If-Match": book.etag},
    )

    assert response.status_code == 200
    assert response.json()["title"] == "Second edition"


async def test_patching_changes_only_the_fields_sent(client: AsyncClient) -> None:
    created = await create_book(client, year=1999)

    response = await client.patch(created.url, json={"year": 2019}, headers={"If-Match": "*"})

    assert response.status_code == 200
    book = response.json()
    assert book["year"] == 2019
    assert book["title"] == created.body["title"]
    assert book["isbn"] == created.body["isbn"]
    assert response.headers["etag"] != created.etag


async def test_a_patch_that_changes_nothing_keeps_the_etag(client: AsyncClient) -> None:
    created = await create_book(client, year=1999)

    for patch in ({}, {"year": 1999}):
        response = await client.patch(created.url, json=patch, headers={"If-Match": created.etag})
        assert response.status_code == 200
        assert response.json() == created.body
        assert response.headers["etag"] == created.etag


async def test_patching_to_another_books_isbn_is_a_conflict(client: AsyncClient) -> None:
    taken = await create_book(client)
    book = await create_book(client)

    response = await client.patch(
        book.url, json={"isbn": taken.body["isbn"]}, headers={"If-Match": book.etag}
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM


async def test_deleting_a_book_removes_it(client: AsyncClient) -> None:
    book = await create_book(client)

    response = await client.delete(book.url, headers={"If-Match": book.etag})

    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(book.url)).status_code == 404
    assert (await client.delete(book.url, headers={"If-Match": "*"})).status_code == 404


async def test_writes_to_an_unknown_book_are_not_found(client: AsyncClient) -> None:
    headers = {"If-Match": "*"}

    responses = [
        await client.put("/books/42", json=book_data(), headers=headers),
        await client.patch("/books/42", json={"year": 2000}, headers=headers),
        await client.delete("/books/42", headers=headers),
    ]

    assert [response.status_code for response in responses] == [404, 404, 404]
    assert (await client.get("/books")).json()["total"] == 0


async def test_an_unsupported_method_is_refused_with_the_allowed_ones(client: AsyncClient) -> None:
    response = await client.delete("/books")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["allow"] == "GET, HEAD, POST"


async def test_isbns_from_the_factory_are_valid(client: AsyncClient) -> None:
    # The factory's check digits agree with the API's (a guard for the other tests).
    for serial in (1, 7, 123_456_789):
        response = await client.post("/books", json=book_data(isbn=isbn13(serial)))
        assert response.status_code == 201, response.text

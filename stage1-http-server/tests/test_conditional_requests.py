"""ETags and preconditions: a client cannot overwrite a change it has not seen."""

import asyncio

import pytest
from httpx import AsyncClient

from tests.factories import book_data, create_book

WRITES = ["put", "patch", "delete"]


async def write(client: AsyncClient, method: str, url: str, if_match: str | None) -> int:
    headers = {} if if_match is None else {"If-Match": if_match}
    if method == "put":
        response = await client.put(url, json=book_data(year=2020), headers=headers)
    elif method == "patch":
        response = await client.patch(url, json={"year": 2020}, headers=headers)
    else:
        response = await client.delete(url, headers=headers)
    return response.status_code


@pytest.mark.parametrize("method", WRITES)
async def test_a_write_without_if_match_is_refused_with_428(
    client: AsyncClient, method: str
) -> None:
    book = await create_book(client)

    assert await write(client, method, book.url, if_match=None) == 428
    assert (await client.get(book.url)).json() == book.body


async def test_the_428_problem_says_what_to_send(client: AsyncClient) -> None:
    book = await create_book(client)

    response = await client.patch(book.url, json={"year": 2020})

    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Precondition Required"
    assert "If-Match" in response.json()["detail"]


@pytest.mark.parametrize("method", WRITES)
async def test_a_write_based_on_a_stale_etag_is_refused_with_412(
    client: AsyncClient, method: str
) -> None:
    book = await create_book(client, year=1999)
    changed = await client.patch(book.url, json={"year": 2000}, headers={"If-Match": book.etag})
    assert changed.status_code == 200

    assert await write(client, method, book.url, if_match=book.etag) == 412
    assert (await client.get(book.url)).json() == changed.json()


async def test_the_second_of_two_editors_gets_412_instead_of_a_lost_update(
    client: AsyncClient,
) -> None:
    book = await create_book(client, title="Draft")
    alice_etag = bob_etag = (await client.get(book.url)).headers["etag"]

    alice = await client.patch(
        book.url, json={"title": "Alice's"}, headers={"If-Match": alice_etag}
    )
    bob = await client.patch(book.url, json={"title": "Bob's"}, headers={"If-Match": bob_etag})

    assert alice.status_code == 200
    assert bob.status_code == 412
    assert bob.json()["title"] == "Precondition Failed"
    assert (await client.get(book.url)).json()["title"] == "Alice's"


async def test_concurrent_writers_with_the_same_etag_change_the_book_once(
    client: AsyncClient,
) -> None:
    # The handlers run on a thread pool, so these really race for the file lock; the ETag is
    # checked under the lock, so only the first writer's ETag is still current.
    book = await create_book(client, title="Original")

    responses = await asyncio.gather(
        *(
            client.patch(book.url, json={"title": f"Edit {n}"}, headers={"If-Match": book.etag})
            for n in range(10)
        )
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [412] * 9
    [winner] = [response.json() for response in responses if response.status_code == 200]
    assert (await client.get(book.url)).json() == winner


@pytest.mark.parametrize("method", WRITES)
async def test_if_match_star_applies_to_whatever_version_exists(
    client: AsyncClient, method: str
) -> None:
    book = await create_book(client)
    assert await write(client, method, book.url, if_match="*") in {200, 204}


async def test_if_match_may_list_several_etags(client: AsyncClient) -> None:
    book = await create_book(client)

    status = await write(client, "patch", book.url, if_match=f'"stale", {book.etag}')

    assert status == 200


async def test_a_weak_etag_never_satisfies_if_match(client: AsyncClient) -> None:
    # If-Match compares strongly (RFC 9110): W/"..." only says "equivalent", not "the same".
    book = await create_book(client)
    assert await write(client, "patch", book.url, if_match=f"W/{book.etag}") == 412


async def test_a_current_copy_gets_304_not_modified_without_a_body(client: AsyncClient) -> None:
    book = await create_book(client)

    for if_none_match in (book.etag, f"W/{book.etag}", f'"other", {book.etag}', "*"):
        response = await client.get(book.url, headers={"If-None-Match": if_none_match})
        assert response.status_code == 304, if_none_match
        assert response.content == b""
        assert response.headers["etag"] == book.etag


async def test_a_stale_copy_gets_the_current_book(client: AsyncClient) -> None:
    book = await create_book(client)
    changed = await client.patch(book.url, json={"year": 2001}, headers={"If-Match": book.etag})

    response = await client.get(book.url, headers={"If-None-Match": book.etag})

    assert response.status_code == 200
    assert response.json() == changed.json()
    assert response.headers["etag"] == changed.headers["etag"]


async def test_if_none_match_on_an_unknown_book_is_still_not_found(client: AsyncClient) -> None:
    response = await client.get("/books/5", headers={"If-None-Match": "*"})
    assert response.status_code == 404

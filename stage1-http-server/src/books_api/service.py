"""The rules of the book collection: unique ISBNs, optimistic concurrency, search.

Every change happens inside `storage.transaction()`, so each check (does the book exist,
is the client's ETag current, is the ISBN free) and the write that depends on it are one
step that no other thread or process can interleave with.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from books_api.etags import etag_for, if_match_holds
from books_api.schemas import Book, BookIn, BookPatch, BookQuery
from books_api.storage import BookFile, JsonFileStorage
from roadmap_shared.errors import Conflict, NotFound, PreconditionFailed
from roadmap_shared.pagination import Page, PageParams

_SORT_KEYS: dict[str, Callable[[Book], int | str]] = {
    "id": lambda book: book.id,
    "title": lambda book: book.title.casefold(),
    "author": lambda book: book.author.casefold(),
    "year": lambda book: book.year,
}


def list_books(storage: JsonFileStorage, query: BookQuery, params: PageParams) -> Page[Book]:
    matching = [book for book in storage.read().books if _matches(book, query)]
    field = query.sort.removeprefix("-")
    # The file keeps books in id order and Python's sort is stable (in reverse too), so
    # books with equal keys stay in id order: pages never shuffle between requests.
    ordered = sorted(matching, key=_SORT_KEYS[field], reverse=query.sort.startswith("-"))
    items = ordered[params.offset : params.offset + params.size]
    return Page.of(items, total=len(ordered), params=params)


def get_book(storage: JsonFileStorage, book_id: int) -> Book:
    data = storage.read()
    return data.books[_index_of(data, book_id)]


def create_book(storage: JsonFileStorage, new: BookIn) -> Book:
    with storage.transaction() as data:
        _ensure_isbn_is_free(data, new.isbn)
        now = datetime.now(UTC)
        book = Book(id=data.next_id, **new.model_dump(), created_at=now, updated_at=now)
        data.books.append(book)
        data.next_id += 1
    return book


def replace_book(storage: JsonFileStorage, book_id: int, new: BookIn, if_match: str) -> Book:
    return _change(storage, book_id, new.model_dump(), if_match)


def update_book(storage: JsonFileStorage, book_id: int, patch: BookPatch, if_match: str) -> Book:
    return _change(storage, book_id, patch.model_dump(exclude_unset=True), if_match)


def delete_book(storage: JsonFileStorage, book_id: int, if_match: str) -> None:
    with storage.transaction() as data:
        index = _index_of(data, book_id)
        _check_if_match(data.books[index], if_match)
        del data.books[index]


def _change(storage: JsonFileStorage, book_id: int, changes: dict[str, Any], if_match: str) -> Book:
    with storage.transaction() as data:
        index = _index_of(data, book_id)
        current = data.books[index]
        _check_if_match(current, if_match)
        if "isbn" in changes:
            _ensure_isbn_is_free(data, changes["isbn"], other_than=book_id)
        before = current.model_dump()
        after = before | changes
        if after == before:
            # Nothing changes, so neither do `updated_at` and the ETag.
            return current
        data.books[index] = Book(**after | {"updated_at": datetime.now(UTC)})
    return data.books[index]


def _matches(book: Book, query: BookQuery) -> bool:
    return (
        (query.author is None or book.author.casefold() == query.author.casefold())
        and (query.year_from is None or book.year >= query.year_from)
        and (query.year_to is None or book.year <= query.year_to)
        and (query.q is None or query.q.casefold() in book.title.casefold())
    )


def _index_of(data: BookFile, book_id: int) -> int:
    for index, book in enumerate(data.books):
        if book.id == book_id:
            return index
    raise NotFound(f"There is no book with id {book_id}.")


def _ensure_isbn_is_free(data: BookFile, isbn: str, *, other_than: int | None = None) -> None:
    if any(book.isbn == isbn and book.id != other_than for book in data.books):
        raise Conflict(f"Another book already has the ISBN {isbn}.")


def _check_if_match(book: Book, if_match: str) -> None:
    if not if_match_holds(if_match, etag_for(book)):
        raise PreconditionFailed(
            f"Book {book.id} has changed since you read it. GET it again, reapply your "
            f"change, and send its new ETag in If-Match."
        )

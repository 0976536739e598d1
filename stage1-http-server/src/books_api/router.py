"""HTTP for the book collection: status codes, headers, and nothing else.

The handlers are plain `def`, not `async def`: the storage blocks (file I/O, `fsync`, waiting
for the lock), and FastAPI runs plain functions in a thread pool so that a blocked handler
never stalls the event loop and every other request with it.
"""

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response, status

from books_api import service
from books_api.dependencies import JSON_BODY, IfMatchDep, StorageDep
from books_api.etags import etag_for, if_none_match_holds
from books_api.schemas import Book, BookIn, BookPatch, BookQuery
from roadmap_shared.errors import problem_responses
from roadmap_shared.fields import MAX_INT64
from roadmap_shared.pagination import Page, PageParamsDep

router = APIRouter(prefix="/books", tags=["books"])

# At most int64's maximum, like every integer the API reads: a larger one is a 422.
BookId = Annotated[int, Path(ge=1, le=MAX_INT64, description="The book's id")]


@router.get("", summary="List books, filtered, sorted and paginated")
def list_books(
    query: Annotated[BookQuery, Query()], params: PageParamsDep, storage: StorageDep
) -> Page[Book]:
    return service.list_books(storage, query, params)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add a book",
    dependencies=[JSON_BODY],
    responses=problem_responses(409, 413, 415, 503),
)
def create_book(new: BookIn, storage: StorageDep, request: Request, response: Response) -> Book:
    book = service.create_book(storage, new)
    response.headers["Location"] = request.app.url_path_for("get_book", book_id=book.id)
    response.headers["ETag"] = etag_for(book)
    return book


@router.get(
    "/{book_id}",
    summary="Get a book",
    response_model=Book,
    responses={
        304: {"description": "Not modified: your copy (If-None-Match) is current"},
        **problem_responses(404),
    },
)
def get_book(
    book_id: BookId,
    storage: StorageDep,
    response: Response,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Book | Response:
    book = service.get_book(storage, book_id)
    etag = etag_for(book)
    if if_none_match is not None and not if_none_match_holds(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    response.headers["ETag"] = etag
    return book


@router.put(
    "/{book_id}",
    summary="Replace a book",
    dependencies=[JSON_BODY],
    responses=problem_responses(404, 409, 412, 413, 415, 428, 503),
)
def replace_book(
    book_id: BookId, new: BookIn, if_match: IfMatchDep, storage: StorageDep, response: Response
) -> Book:
    book = service.replace_book(storage, book_id, new, if_match)
    response.headers["ETag"] = etag_for(book)
    return book


@router.patch(
    "/{book_id}",
    summary="Change some fields of a book",
    dependencies=[JSON_BODY],
    responses=problem_responses(404, 409, 412, 413, 415, 428, 503),
)
def update_book(
    book_id: BookId, patch: BookPatch, if_match: IfMatchDep, storage: StorageDep, response: Response
) -> Book:
    book = service.update_book(storage, book_id, patch, if_match)
    response.headers["ETag"] = etag_for(book)
    return book


@router.delete(
    "/{book_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a book",
    responses=problem_responses(404, 412, 428, 503),
)
def delete_book(book_id: BookId, if_match: IfMatchDep, storage: StorageDep) -> None:
    service.delete_book(storage, book_id, if_match)

"""What handlers ask for, as `Annotated` aliases, and the checks they share. These run on
the event loop (`async def`): none of them blocks, so none needs a worker thread."""

from http import HTTPStatus
from typing import Annotated

from fastapi import Depends, Header, Request

from books_api.storage import JsonFileStorage
from roadmap_shared.errors import ProblemError


async def get_storage(request: Request) -> JsonFileStorage:
    storage: JsonFileStorage = request.app.state.storage
    return storage


async def require_json_body(
    content_type: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> None:
    # Without this, a body sent as a form (curl's default for -d) fails validation with a
    # puzzling "Input should be a valid dictionary"; 415 names the real problem.
    media_type = (content_type or "").partition(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise ProblemError(
            "Send the body as JSON, with Content-Type: application/json.",
            status=HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        )


async def require_if_match(
    if_match: Annotated[
        str | None,
        Header(description='The ETag you last saw, e.g. `"1a2b..."`, or `*` for any version'),
    ] = None,
) -> str:
    # Without If-Match a client could overwrite a change it never saw (a "lost update"),
    # so writes to an existing book must say which version they are based on.
    if if_match is None:
        raise ProblemError(
            "Send If-Match with the book's ETag (from GET /books/{id}), "
            "or If-Match: * to apply the change whatever the current version.",
            status=HTTPStatus.PRECONDITION_REQUIRED,
        )
    return if_match


StorageDep = Annotated[JsonFileStorage, Depends(get_storage)]
IfMatchDep = Annotated[str, Depends(require_if_match)]
JSON_BODY = Depends(require_json_body)

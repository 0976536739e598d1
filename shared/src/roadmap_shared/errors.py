"""One error shape for every stage: RFC 9457 problem details.

Every error response is `application/problem+json` with `type`, `title`, `status` and
`detail`; validation errors add `errors`, a list of `{"loc", "msg", "type"}`. Handlers raise
`ProblemError` (or one of its subclasses) and never build error responses by hand.
"""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Defined here, where error responses carry it; the middleware imports it from this module.
REQUEST_ID_HEADER = "X-Request-ID"
# RFC 9110 renamed these; Python 3.11's `HTTPStatus` still has the old names.
_RFC9110_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def status_title(status: int) -> str:
    return _RFC9110_TITLES.get(status, HTTPStatus(status).phrase)


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """The body of every error response (RFC 9457)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    """An error that becomes a problem-details response."""

    status: int = HTTPStatus.INTERNAL_SERVER_ERROR

    def __init__(
        self,
        detail: str | None = None,
        *,
        status: int | None = None,
        title: str | None = None,
        type_: str = "about:blank",
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        if status is not None:
            self.status = status
        self.detail = detail
        self.title = title or status_title(self.status)
        self.type = type_
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class BadRequest(ProblemError):
    status = HTTPStatus.BAD_REQUEST


class Unauthorized(ProblemError):
    """401. Always carries `WWW-Authenticate`, as RFC 9110 requires."""

    status = HTTPStatus.UNAUTHORIZED

    def __init__(self, detail: str = "Not authenticated", *, scheme: str = "Bearer") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": scheme})


class Forbidden(ProblemError):
    status = HTTPStatus.FORBIDDEN


class NotFound(ProblemError):
    status = HTTPStatus.NOT_FOUND


class Conflict(ProblemError):
    status = HTTPStatus.CONFLICT


class PreconditionFailed(ProblemError):
    status = HTTPStatus.PRECONDITION_FAILED


class ContentTooLarge(ProblemError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class UnsupportedMediaType(ProblemError):
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE


class UnprocessableContent(ProblemError):
    """422 for a well-formed request that refers to something that cannot be used (a parent
    category that does not exist, an idempotency key reused for another body)."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY


class RetryLater(ProblemError):
    """A refusal that passes: `Retry-After` says when trying again makes sense."""

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after_seconds))})


class TooManyRequests(RetryLater):
    status = HTTPStatus.TOO_MANY_REQUESTS


class ServiceUnavailable(RetryLater):
    """503: a service this request needs (an image storage) is failing; not the client's
    fault, and not a bug."""

    status = HTTPStatus.SERVICE_UNAVAILABLE


def problem_response(
    status: int,
    *,
    detail: str | None = None,
    title: str | None = None,
    type_: str = "about:blank",
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = Problem(
        type=type_,
        title=title or status_title(status),
        status=status,
        detail=detail,
        **extra,
    )
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_CONTENT_TYPE,
    )


def field_errors(exc: RequestValidationError) -> list[FieldError]:
    return [
        FieldError(loc=list(error["loc"]), msg=error["msg"], type=error["type"])
        for error in exc.errors()
    ]


def unreadable_body(exc: StarletteHTTPException) -> RequestValidationError | None:
    """The validation error for a JSON body FastAPI could not read, or None.

    FastAPI turns a syntax error into a 422 (`json_invalid`), but any other failure of
    `json.loads` into a bare 400: JSON nested deeper than the parser recurses, bytes that
    are not UTF-8, an integer longer than Python converts (4,300 digits). Such a body is
    just as unreadable, so it gets the same 422, which every operation documents.
    """
    cause = exc.__cause__
    if exc.status_code != HTTPStatus.BAD_REQUEST or not isinstance(
        cause, RecursionError | ValueError
    ):
        return None
    if isinstance(cause, RecursionError):
        reason = "JSON decode error: nested too deeply"
    elif isinstance(cause, UnicodeDecodeError):
        reason = "JSON decode error: not UTF-8 text"
    else:
        reason = "JSON decode error: a value too long to read"
    error = {"type": "json_invalid", "loc": ("body",), "msg": reason, "input": {}}
    return RequestValidationError([error])


def allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts for this path. The router itself names only the
    first route that matched the path, so `GET /books` would hide `POST /books`."""
    routes = request.app.router.routes
    allowed = {
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    }
    if "GET" in allowed:
        allowed.add("HEAD")  # answered by HeadAsGetMiddleware
    return [method for method in _METHODS if method in allowed]


def install_error_handlers(app: FastAPI) -> None:
    """Problem bodies for our errors, the framework's, and validation. Unexpected
    exceptions are caught by `RequestContextMiddleware`, which knows the request id."""

    @app.exception_handler(ProblemError)
    async def problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            exc.status,
            detail=exc.detail,
            title=exc.title,
            type_=exc.type,
            headers=exc.headers,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            detail="The request is not valid; see `errors`.",
            errors=field_errors(exc),
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_exception(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Raised by the framework itself: unknown route (404), wrong method (405), body too
        # large (413), and so on.
        if (unreadable := unreadable_body(exc)) is not None:
            return await validation_error(request, unreadable)
        headers = dict(exc.headers or {})
        if exc.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(exc.status_code, detail=exc.detail, headers=headers)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the problem body for the given statuses."""
    return {
        status: {
            "description": status_title(status),
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }

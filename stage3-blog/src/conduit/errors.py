"""Two error shapes in one app.

The RealWorld endpoints (under `/api`) answer 401, 403, 404, 409 and 422 in the shape of
RealWorld spec v2, `{"errors": {"<field>": ["<message>"]}}`, because published front ends
parse it (they show each error as "<field> <message>"). Everything else keeps the project's
RFC 9457 problem details: the admin endpoints, `/healthz`, 404s outside `/api`, and the
statuses the spec does not define (413, 429, 500...).

Handlers raise `SpecError` (or any `ProblemError`) and never build either shape by hand.
"""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from roadmap_shared.errors import ProblemError, unreadable_body

SPEC_PATH_PREFIX = "/api/"
SPEC_STATUSES = frozenset({401, 403, 404, 409, 422})
# The spec's GenericErrorModel has one field, `body`; errors not about a field use it.
GENERIC_FIELD = "body"
# SQLSTATE 22021, character_not_in_repertoire: how PostgreSQL refuses a NUL in text.
NUL_IN_TEXT = "22021"
TOKEN_SCHEME = "Token"  # noqa: S105 (the name of a scheme, not a secret)

ExceptionHandler = Callable[[Request, Any], Awaitable[Response]]


class SpecError(ProblemError):
    """An error about one field (or subject): `{"errors": {field: [message]}}` under
    `/api`, a problem with `detail` "<field> <message>" elsewhere."""

    def __init__(
        self, status: int, field: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{field} {message}", status=status, headers=headers)
        self.field = field
        self.message = message


def unauthorized(field: str, message: str) -> SpecError:
    # RFC 9110: a 401 names the scheme the client should use.
    return SpecError(401, field, message, headers={"WWW-Authenticate": TOKEN_SCHEME})


def forbidden(field: str, message: str) -> SpecError:
    return SpecError(403, field, message)


def not_owner(subject: str) -> SpecError:
    """Spec v2: acting on someone else's article or comment."""
    return SpecError(403, subject, "forbidden")


def conflict(field: str, message: str) -> SpecError:
    return SpecError(409, field, message)


def not_found(field: str) -> SpecError:
    return SpecError(404, field, "not found")


def invalid(field: str, message: str) -> SpecError:
    return SpecError(422, field, message)


def spec_response(
    status: int, errors: dict[str, list[str]], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"errors": errors}, status_code=status, headers=headers)


def _spec_errors_for_validation(exc: RequestValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        # loc is ("body", "article", "title") or ("query", "limit"): the last name is the
        # field a person would recognise.
        names = [str(part) for part in error["loc"] if isinstance(part, str)]
        field = names[-1] if len(names) > 1 else GENERIC_FIELD
        errors.setdefault(field, []).append(_spec_message(error))
    return errors


BLANK = "can't be blank"
# Our own words for each kind of validation error: front ends print "<field> <message>",
# so a message never shows a pattern, a type name or a library's phrasing.
_MESSAGES: dict[str, str] = {
    "string_too_short": "is too short (minimum is {min_length} characters)",
    "string_too_long": "is too long (maximum is {max_length} characters)",
    "too_short": "has too few items (minimum is {min_length})",
    "too_long": "has too many items (maximum is {max_length})",
    "greater_than_equal": "must be greater than or equal to {ge}",
    "less_than_equal": "must be less than or equal to {le}",
    "greater_than": "must be greater than {gt}",
    "less_than": "must be less than {lt}",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "list_type": "must be a list",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "json_invalid": "is not valid JSON",
    "json_type": "is not valid JSON",
}
INVALID = "is invalid"  # a bad email, URL or username: which rule it broke is in the docs


def _spec_message(error: Any) -> str:
    """The spec's wording for a blank or missing field, ours for the rest."""
    value = error.get("input")
    if (
        error["type"] == "missing"
        or value is None
        or (isinstance(value, str) and not value.strip())
    ):
        return BLANK
    kind = error["type"]
    if isinstance(value, str) and kind in ("too_short", "too_long"):
        # A length limit on an optional text (`Query(max_length=...)`) is reported as the
        # generic kind; for a string it counts characters, not items.
        kind = f"string_{kind}"
    template = _MESSAGES.get(kind, INVALID)
    try:
        return template.format(**error.get("ctx", {}))
    except (KeyError, IndexError):
        return INVALID


def _in_spec_shape(exc: Exception) -> tuple[int, dict[str, list[str]], Mapping[str, str] | None]:
    """The status, spec body and headers an error would have under /api."""
    if isinstance(exc, RequestValidationError):
        return 422, _spec_errors_for_validation(exc), None
    if isinstance(exc, SpecError):
        return exc.status, {exc.field: [exc.message]}, exc.headers
    if isinstance(exc, ProblemError):
        return exc.status, {GENERIC_FIELD: [exc.detail or exc.title]}, exc.headers
    if isinstance(exc, StarletteHTTPException):
        if (unreadable := unreadable_body(exc)) is not None:
            return _in_spec_shape(unreadable)
        return exc.status_code, {GENERIC_FIELD: [exc.detail]}, exc.headers
    raise TypeError(f"no spec shape for {type(exc).__name__}")


def _spec_or_problem(problem_handler: ExceptionHandler) -> ExceptionHandler:
    async def handle(request: Request, exc: Exception) -> Response:
        status, errors, headers = _in_spec_shape(exc)
        if request.url.path.startswith(SPEC_PATH_PREFIX) and status in SPEC_STATUSES:
            return spec_response(status, errors, headers)
        return await problem_handler(request, exc)

    return handle


def install_spec_error_handlers(app: FastAPI) -> None:
    """Wraps the problem-details handlers the shared app factory installed, so requests
    under `/api` get the spec's shape and all others get what they got before."""
    for exc_class in (ProblemError, StarletteHTTPException, RequestValidationError):
        problem_handler = cast(ExceptionHandler, app.exception_handlers[exc_class])
        app.add_exception_handler(exc_class, _spec_or_problem(problem_handler))
    render = cast(ExceptionHandler, app.exception_handlers[ProblemError])
    # The shared handler: a database outage becomes 503, anything else a 500.
    other_database_error = cast(ExceptionHandler, app.exception_handlers[DBAPIError])

    async def text_postgresql_cannot_store(request: Request, exc: Exception) -> Response:
        # PostgreSQL text cannot hold U+0000, and says so only when the value arrives.
        # Anything a client sends (a body, a slug, a query) may carry one: a client error.
        if getattr(getattr(exc, "orig", None), "sqlstate", None) != NUL_IN_TEXT:
            return await other_database_error(request, exc)
        return await render(request, invalid(GENERIC_FIELD, "must not contain NUL characters"))

    app.add_exception_handler(DBAPIError, text_postgresql_cannot_store)


_GENERIC_ERROR_MODEL = {
    "title": "GenericErrorModel",
    "description": 'The RealWorld error body: `{"errors": {"<field>": ["<message>"]}}`.',
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        }
    },
}


_SPEC_ERROR_DESCRIPTIONS = {
    401: 'Missing or bad token (`{"errors": {"token": ["is missing"]}}`) or, when logging in, '
    'wrong credentials (`{"errors": {"credentials": ["invalid"]}}`)',
    403: 'Not the owner (`{"errors": {"article": ["forbidden"]}}`), or a suspended account',
    404: 'No such resource (`{"errors": {"article": ["not found"]}}`)',
    409: 'Already taken (`{"errors": {"username": ["has already been taken"]}}`)',
    422: 'Invalid input (`{"errors": {"title": ["can\'t be blank"]}}`)',
}


def spec_error(status: int) -> dict[str, Any]:
    """The OpenAPI response object of an error in the spec's shape."""
    return {
        "description": _SPEC_ERROR_DESCRIPTIONS[status],
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/GenericErrorModel"}}
        },
    }


def spec_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for a route's errors in the spec's shape, beyond the two the
    document adds by itself (401 where a token is read, 422 where input is)."""
    return {status: spec_error(status) for status in statuses}


def document_spec_errors(app: FastAPI) -> None:
    """Under /api, 401 and 422 are the spec's body (`application/json`), not a problem:
    every operation that reads a token may answer 401, every one with input 422. The
    statuses outside the spec (413, 429, 503...) stay problems, the `default` response."""
    document_with_problems = app.openapi

    def openapi() -> dict[str, Any]:
        schema = document_with_problems()
        schema["components"]["schemas"]["GenericErrorModel"] = _GENERIC_ERROR_MODEL
        for path, operations in schema["paths"].items():
            if not path.startswith(SPEC_PATH_PREFIX):
                continue
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = spec_error(422)
                if operation.get("security"):
                    responses["401"] = spec_error(401)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

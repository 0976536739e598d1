"""Two error shapes in one app.

The RealWorld endpoints (under `/api`) answer 401, 403, 404 and 422 in the spec's own
shape, `{"errors": {"<field>": ["<message>"]}}`, because published front ends parse it
(they show each error as "<field> <message>"). Everything else keeps the project's
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

from roadmap_shared.errors import ProblemError

SPEC_PATH_PREFIX = "/api/"
SPEC_STATUSES = frozenset({401, 403, 404, 422})
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


def _spec_message(error: Any) -> str:
    # The spec's example message; pydantic says "Field required".
    if error["type"] == "missing" or (
        error["type"] == "string_too_short" and error.get("ctx", {}).get("min_length") == 1
    ):
        return "can't be empty"
    message = str(error["msg"])
    # Front ends print "<field> <message>": "title should have at most 200 characters".
    # An acronym keeps its capitals ("JSON decode error", not "jSON decode error").
    if message[1:2].isupper():
        return message
    return message[:1].lower() + message[1:]


def _in_spec_shape(exc: Exception) -> tuple[int, dict[str, list[str]], Mapping[str, str] | None]:
    """The status, spec body and headers an error would have under /api."""
    if isinstance(exc, RequestValidationError):
        return 422, _spec_errors_for_validation(exc), None
    if isinstance(exc, SpecError):
        return exc.status, {exc.field: [exc.message]}, exc.headers
    if isinstance(exc, ProblemError):
        return exc.status, {GENERIC_FIELD: [exc.detail or exc.title]}, exc.headers
    if isinstance(exc, StarletteHTTPException):
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


def document_spec_errors(app: FastAPI) -> None:
    """The shared app documents every 422 as a problem; under /api it is the spec's body."""
    document_with_problems = app.openapi

    def openapi() -> dict[str, Any]:
        schema = document_with_problems()
        schema["components"]["schemas"]["GenericErrorModel"] = _GENERIC_ERROR_MODEL
        spec_body = {
            "application/json": {"schema": {"$ref": "#/components/schemas/GenericErrorModel"}}
        }
        for path, operations in schema["paths"].items():
            if not path.startswith(SPEC_PATH_PREFIX):
                continue
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = {"description": "Validation error", "content": spec_body}
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

"""Pure ASGI middleware shared by every stage.

Pure ASGI (not `BaseHTTPMiddleware`) so that streaming responses and context variables
work as expected and no extra task is spawned per request.
"""

import asyncio
import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roadmap_shared.errors import REQUEST_ID_HEADER, problem_response
from roadmap_shared.logging import request_id_var

# A client-supplied id is kept only if it is short and harmless to echo into logs.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    # An API returns data, not pages: nothing it serves should load or run anything.
    # The documentation pages set their own, looser policy.
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}

access_logger = logging.getLogger("roadmap.access")
error_logger = logging.getLogger("roadmap.errors")


class RequestContextMiddleware:
    """Gives each request an id (echoed in `X-Request-ID`), writes one access-log line, and
    turns an unexpected exception into a 500 problem without internals, logging its
    traceback with the request id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500  # until the app starts a response

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_logger.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if status != 500:  # the response had started; all we can do is stop
                raise
            response = problem_response(500, detail="An unexpected error occurred.")
            await response(scope, receive, send_with_id)
        finally:
            access_logger.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            request_id_var.reset(token)


def _request_id(scope: Scope) -> str:
    """The client's `X-Request-ID` if it is safe to echo and log, else a new one. Header
    values are bytes, and any bytes at all may arrive: decoded as Latin-1 (which cannot
    fail), anything outside the safe pattern is simply replaced, never an error."""
    incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
    return incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


class SecurityHeadersMiddleware:
    """Adds `SECURITY_HEADERS` to every response that does not set them itself, and
    `Cache-Control: no-store` to every response to a request that carries credentials
    (an `Authorization` header): what such a request gets back is someone's own data, and
    no browser or proxy cache may keep it. (Responses that hand out tokens to requests
    without credentials, like signing in, are marked by the route: see `NO_STORE`.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        carries_credentials = "authorization" in Headers(scope=scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if carries_credentials:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(HTTPException):
    """413 from inside the body stream. An `HTTPException`, not a `ProblemError` such as
    `errors.ContentTooLarge`: FastAPI's body parsing turns other exceptions into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


class BodySizeLimitMiddleware:
    """Refuses request bodies over `max_bytes` with 413, before reading them when
    `Content-Length` says so, and while reading them when the body is streamed.

    `limits_by_path_prefix` lets a few endpoints (uploads) accept more than the default.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, limits_by_path_prefix: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limits_by_path_prefix = limits_by_path_prefix or {}

    def limit_for(self, path: str) -> int:
        matches = [p for p in self.limits_by_path_prefix if path.startswith(p)]
        return self.limits_by_path_prefix[max(matches, key=len)] if matches else self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            error = BodyTooLarge(limit)
            await problem_response(413, detail=error.detail)(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException passes through FastAPI's body parsing untouched
                    # and becomes a problem response in the error handlers.
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, receive_within_limit, send)


class RequestTimeout(HTTPException):
    def __init__(self, seconds: float) -> None:
        # The rest of the body may still be on its way: the connection cannot carry another
        # request, so it is closed.
        super().__init__(
            408,
            f"The request body did not arrive within {seconds:g} seconds.",
            headers={"Connection": "close"},
        )


class BodyReadDeadlineMiddleware:
    """Answers 408 when a request's body has not fully arrived `timeout_seconds` after the
    request began, instead of waiting as long as the client likes (a `Content-Length` of a
    megabyte followed by ten bytes would otherwise hold the connection open for ever).

    Only reading the body is timed: once it is complete, the app may take as long as it
    needs, and may wait on `receive` for the client to disconnect.
    """

    def __init__(self, app: ASGIApp, timeout_seconds: float) -> None:
        self.app = app
        self.timeout_seconds = timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.timeout_seconds
        body_complete = False

        async def receive_before_deadline() -> Message:
            nonlocal body_complete
            if body_complete:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                # Like ContentTooLarge: FastAPI's body parsing lets an HTTPException through.
                raise RequestTimeout(self.timeout_seconds) from None
            body_complete = message["type"] != "http.request" or not message.get("more_body")
            return message

        await self.app(scope, receive_before_deadline, send)


class HeadAsGetMiddleware:
    """Answers HEAD as GET without the body, as RFC 9110 asks of every server.

    FastAPI's routes accept only the methods they declare, so `HEAD /books` would be a 405.
    This sits innermost, just before routing: the access log still says HEAD.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)

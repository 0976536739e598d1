"""A JSON API on the standard library alone, to see what a framework does for you.

Run it with `python -m books_api.hello [--port 8080]`, then:

    curl -i http://127.0.0.1:8080/greetings -H 'Content-Type: application/json' \\
         -d '{"name": "Ada"}'

Everything FastAPI and uvicorn do for the book API is done here by hand, in the open:
parsing the request line and headers (`http.server` still does that much), routing by path
*and* method, answering 404 for an unknown path and 405 with `Allow` for a known path with
the wrong method, refusing a body that is too large (413), not JSON (415, 400), cut short
(400) or too slow to arrive (408), setting `Content-Type` and `Content-Length`, encoding
JSON, guarding shared state across threads, and shutting down without cutting a request
in half.
"""

import argparse
import json
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

MAX_BODY_BYTES = 1024
# However slowly it trickles in, a body must have arrived this long after the headers.
BODY_DEADLINE_SECONDS = 10.0
MAX_NAME_LENGTH = 100
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"


class HttpError(Exception):
    """Raised by any step of handling a request; becomes an error response."""

    def __init__(
        self, status: HTTPStatus, detail: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class Reply:
    status: HTTPStatus
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


class Greetings:
    """The server's data, in memory. Each request runs on its own thread, so every access
    goes through a lock: two creates at once must not get the same id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[int, dict[str, Any]] = {}
        self._next_id = 1

    def add(self, name: str) -> dict[str, Any]:
        with self._lock:
            greeting = {"id": self._next_id, "name": name, "message": f"Hello, {name}!"}
            self._items[self._next_id] = greeting
            self._next_id += 1
            return greeting

    def get(self, greeting_id: int) -> dict[str, Any] | None:
        with self._lock:
            return self._items.get(greeting_id)

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._items.values())


# --- the handlers: what the application does, once the HTTP plumbing is out of the way --

Handler = Callable[[Greetings, re.Match[str], Any], Reply]


def say_hello(greetings: Greetings, match: re.Match[str], body: Any) -> Reply:
    return Reply(HTTPStatus.OK, {"message": "Hello, world!"})


def list_greetings(greetings: Greetings, match: re.Match[str], body: Any) -> Reply:
    return Reply(HTTPStatus.OK, {"items": greetings.all()})


def create_greeting(greetings: Greetings, match: re.Match[str], body: Any) -> Reply:
    # Validation by hand: what Pydantic does from a type annotation.
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise HttpError(
            HTTPStatus.BAD_REQUEST,
            f'Send {{"name": "..."}} with a name of 1 to {MAX_NAME_LENGTH} characters.',
        )
    greeting = greetings.add(name.strip())
    return Reply(HTTPStatus.CREATED, greeting, {"Location": f"/greetings/{greeting['id']}"})


def get_greeting(greetings: Greetings, match: re.Match[str], body: Any) -> Reply:
    greeting = greetings.get(int(match["id"]))
    if greeting is None:
        raise HttpError(HTTPStatus.NOT_FOUND, f"There is no greeting {match['id']}.")
    return Reply(HTTPStatus.OK, greeting)


# The routing table: a path pattern, then the handler for each method it accepts.
# A framework builds this from decorators such as `@router.get("/greetings/{id}")`.
ROUTES: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
    (re.compile(r"/"), {"GET": say_hello}),
    (re.compile(r"/greetings"), {"GET": list_greetings, "POST": create_greeting}),
    (re.compile(r"/greetings/(?P<id>[0-9]{1,18})"), {"GET": get_greeting}),
]
METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


# --- the HTTP plumbing ---------------------------------------------------------------


class HelloRequestHandler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection. With HTTP/1.1 keep-alive, an idle client would
    # hold its thread open and make a graceful shutdown wait for it; uvicorn closes idle
    # connections on shutdown, which is one more thing a real server does for you.
    protocol_version = "HTTP/1.0"
    # A client that stops sending mid-request is cut off after this many seconds, so it
    # cannot hold a thread (or the shutdown) forever.
    timeout = 10
    server: "HelloServer"

    # `http.server` calls `do_<METHOD>`; every method we know goes through one router, so
    # that a known path with the wrong method gets 405, not the default 501.
    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        try:
            reply = self._route()
        except HttpError as error:
            self._send_problem(error.status, error.detail, error.headers)
        except Exception:
            # A bug must not leave the client hanging up on a dropped connection: log the
            # traceback for us, and answer 500 without internals for them.
            self.log_error("unexpected error:\n%s", traceback.format_exc())
            self._send_problem(HTTPStatus.INTERNAL_SERVER_ERROR, "An unexpected error occurred.")
        else:
            self._send(reply.status, reply.body, JSON, reply.headers)

    def _send_problem(
        self, status: HTTPStatus, detail: str, headers: Mapping[str, str] | None = None
    ) -> None:
        # The same problem-details shape (RFC 9457) as the book API's errors.
        problem = {
            "type": "about:blank",
            "title": status.phrase,
            "status": status,
            "detail": detail,
        }
        self._send(status, problem, PROBLEM_JSON, headers or {})

    def _route(self) -> Reply:
        path = urlsplit(self.path).path
        for pattern, handlers in ROUTES:
            if (match := pattern.fullmatch(path)) is None:
                continue
            if (handler := handlers.get(self.command)) is None:
                raise HttpError(
                    HTTPStatus.METHOD_NOT_ALLOWED,
                    f"{path} does not accept {self.command}.",
                    {"Allow": ", ".join(handlers)},
                )
            body = self._read_json() if self.command in METHODS_WITH_BODY else None
            return handler(self.server.greetings, match, body)
        raise HttpError(HTTPStatus.NOT_FOUND, f"Nothing lives at {path}.")

    def _read_json(self) -> Any:
        if "Transfer-Encoding" in self.headers:
            # Chunked bodies are HTTP/1.1. Reading Content-Length bytes of one instead would
            # disagree with a proxy about where the body ends ("request smuggling").
            raise HttpError(
                HTTPStatus.NOT_IMPLEMENTED, "Send the body with Content-Length, not chunked."
            )
        length = self._content_length()
        media_type = self.headers.get_content_type()  # "text/plain" when absent
        if media_type != JSON:
            raise HttpError(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"Send JSON, with Content-Type: {JSON}."
            )
        raw = self._read_body(length)
        try:
            return json.loads(raw)
        # ValueError: not JSON, or not UTF-8. RecursionError: "[[[[..." nested too deeply.
        except (ValueError, RecursionError) as error:
            raise HttpError(
                HTTPStatus.BAD_REQUEST, f"The body is not valid JSON: {error}"
            ) from None

    def _content_length(self) -> int:
        declared = {value.strip() for value in self.headers.get_all("Content-Length", [])}
        if not declared:
            raise HttpError(HTTPStatus.LENGTH_REQUIRED, "Send Content-Length with the body.")
        # Two different lengths: guessing which one is meant is how requests get smuggled.
        if len(declared) > 1:
            raise HttpError(HTTPStatus.BAD_REQUEST, "Send a single Content-Length.")
        value = declared.pop()
        if not (value.isascii() and value.isdigit()):
            raise HttpError(HTTPStatus.BAD_REQUEST, "Content-Length must be a number.")
        # Checked before reading a single byte: a client cannot make us buffer gigabytes.
        # Over 18 digits is over the limit anyway, and int() refuses over 4,300 digits.
        if len(value) > 18 or int(value) > MAX_BODY_BYTES:
            raise HttpError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"The body is larger than {MAX_BODY_BYTES} bytes.",
            )
        return int(value)

    def _read_body(self, length: int) -> bytes:
        # `timeout` limits each wait for data; this deadline limits the whole body, or a
        # client sending one byte every few seconds would hold this thread for hours.
        deadline = time.monotonic() + BODY_DEADLINE_SECONDS
        too_slow = HttpError(
            HTTPStatus.REQUEST_TIMEOUT,
            f"The body did not arrive within {BODY_DEADLINE_SECONDS:g} seconds.",
        )
        body = b""
        try:
            while len(body) < length:
                if (seconds_left := deadline - time.monotonic()) <= 0:
                    raise too_slow
                self.connection.settimeout(seconds_left)
                chunk = self.rfile.read1(length - len(body))
                if not chunk:  # the client closed the connection before the end
                    raise HttpError(
                        HTTPStatus.BAD_REQUEST,
                        f"The body ended after {len(body)} of {length} bytes.",
                    )
                body += chunk
        except TimeoutError:
            raise too_slow from None
        finally:
            self.connection.settimeout(self.timeout)  # the usual time to send the answer
        return body

    def _send(
        self, status: HTTPStatus, body: Any, content_type: str, headers: Mapping[str, str]
    ) -> None:
        encoded = json.dumps(body).encode()
        self.send_response(status)  # the status line, plus Server and Date
        self.send_header("Content-Type", content_type)
        # The client knows where the body ends without waiting for the connection to close.
        self.send_header("Content-Length", str(len(encoded)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(encoded)


class HelloServer(ThreadingHTTPServer):
    """One thread per request. `shutdown()` stops accepting connections; `server_close()`
    then waits for the requests in flight (`block_on_close`) before returning."""

    block_on_close = True
    # The listen backlog: connections the kernel holds until we accept them. socketserver's
    # default of 5 makes a burst of clients wait a second for a SYN to be retried.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, HelloRequestHandler)
        self.greetings = Greetings()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A JSON server on the standard library.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    args = parser.parse_args(argv)

    server = HelloServer((args.host, args.port))
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # SIGTERM is what `docker stop` and process managers send; SIGINT is Ctrl+C.
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    serving = threading.Thread(target=server.serve_forever, name="hello-server")
    serving.start()
    print(f"hello: listening on {server.url}", flush=True)

    stop.wait()
    print("hello: stopping; finishing the requests in flight", file=sys.stderr, flush=True)
    server.shutdown()  # stop accepting connections; returns once serve_forever has
    serving.join()
    server.server_close()  # close the socket and wait for the request threads
    print("hello: stopped", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()

"""uvicorn's fast HTTP/1.1 protocol (httptools), with a cap on the size of a request's head.

httptools buffers the request line and headers without limit: a client sending an 8 MB
header would make the server hold 8 MB, and a few such clients exhaust its memory. Here
the head is counted as it arrives, and past `max_head_bytes` the client gets
`431 Request Header Fields Too Large` and the connection is closed, before the app sees
anything. (uvicorn's other parser, h11, has such a cap, but answers 400 and is slower.)

A head must also arrive in bounded time: uvicorn waits for the rest of a partial head (or
for the first byte of a new connection) for ever, so a client trickling headers (Slowloris)
holds a connection as long as it likes. Past `head_timeout_seconds` it gets `408`.
"""

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# What Node.js and h11 allow by default: room for large cookies and tokens.
DEFAULT_MAX_HEAD_BYTES = 16 * 1024
DEFAULT_HEAD_TIMEOUT_SECONDS = 30.0


class RequestHeadTooLarge(Exception):
    """Stops the parser once the 431 is sent; uvicorn then sends nothing more."""


class HeadLimitedHttpToolsProtocol(HttpToolsProtocol):
    max_head_bytes = DEFAULT_MAX_HEAD_BYTES
    head_timeout_seconds = DEFAULT_HEAD_TIMEOUT_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_head = True  # a connection starts with a request's head
        self._head_bytes = 0
        self._refused = False
        self._head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()  # a connection that sends nothing is bounded too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._reading_head:
            self._head_bytes += len(data)
            if self._head_deadline is None:  # the first bytes of the next request's head
                self._arm_head_deadline()
        super().data_received(data)
        # Still inside a head after this chunk: what is buffered is head, and must stay
        # bounded, however slowly or hugely it arrives.
        if self._reading_head and self._head_bytes > self.max_head_bytes and not self._refused:
            self._refuse()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._disarm_head_deadline()  # the body has its own deadline (middleware)
        # A head that arrived whole in one read is measured exactly here.
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.max_head_bytes:
            self._refuse()
            raise RequestHeadTooLarge
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_head = True  # what comes next on this connection is the next head
        self._head_bytes = 0

    def send_400_response(self, msg: str) -> None:
        if not self._refused:  # uvicorn's answer to the parser stopping after our 431
            super().send_400_response(msg)

    def _arm_head_deadline(self) -> None:
        self._head_deadline = self.loop.call_later(self.head_timeout_seconds, self._head_late)

    def _disarm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_late(self) -> None:
        self._head_deadline = None
        if self.transport.is_closing() or not self._reading_head:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head stalls behind a response still being sent: finish that
            # response, then close, rather than write a 408 into the middle of it.
            self.cycle.keep_alive = False
            return
        seconds = f"{self.head_timeout_seconds:g}"
        self._answer_and_close(
            408, "Request Timeout", f"The request head did not arrive within {seconds} seconds."
        )

    def _refuse(self) -> None:
        self._refused = True
        detail = f"The request line and headers exceed {self.max_head_bytes} bytes."
        self._answer_and_close(431, "Request Header Fields Too Large", detail)

    def _answer_and_close(self, status: int, title: str, detail: str) -> None:
        body = json.dumps(
            {"type": "about:blank", "title": title, "status": status, "detail": detail}
        ).encode()
        head = (
            f"HTTP/1.1 {status} {title}\r\n"
            "content-type: application/problem+json\r\n"
            f"content-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        ).encode()
        self.transport.write(head + body)
        self.transport.close()


def http_protocol(
    max_head_bytes: int, head_timeout_seconds: float = DEFAULT_HEAD_TIMEOUT_SECONDS
) -> type[HeadLimitedHttpToolsProtocol]:
    """The protocol class to give uvicorn (`http=`), refusing heads over `max_head_bytes`
    or not complete `head_timeout_seconds` after they began."""
    limits = {"max_head_bytes": max_head_bytes, "head_timeout_seconds": head_timeout_seconds}
    return type("HttpProtocol", (HeadLimitedHttpToolsProtocol,), limits)

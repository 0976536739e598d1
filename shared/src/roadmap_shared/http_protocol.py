"""uvicorn's fast HTTP/1.1 protocol (httptools), with a cap on the size of a request's head.

httptools buffers the request line and headers without limit: a client sending an 8 MB
header would make the server hold 8 MB, and a few such clients exhaust its memory. Here
the head is counted as it arrives, and past `max_head_bytes` the client gets
`431 Request Header Fields Too Large` and the connection is closed, before the app sees
anything. (uvicorn's other parser, h11, has such a cap, but answers 400 and is slower.)
"""

import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# What Node.js and h11 allow by default: room for large cookies and tokens.
DEFAULT_MAX_HEAD_BYTES = 16 * 1024


class RequestHeadTooLarge(Exception):
    """Stops the parser once the 431 is sent; uvicorn then sends nothing more."""


class HeadLimitedHttpToolsProtocol(HttpToolsProtocol):
    max_head_bytes = DEFAULT_MAX_HEAD_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_head = True  # a connection starts with a request's head
        self._head_bytes = 0
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._reading_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # Still inside a head after this chunk: what is buffered is head, and must stay
        # bounded, however slowly or hugely it arrives.
        if self._reading_head and self._head_bytes > self.max_head_bytes and not self._refused:
            self._refuse()

    def on_headers_complete(self) -> None:
        self._reading_head = False
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

    def _refuse(self) -> None:
        self._refused = True
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "Request Header Fields Too Large",
                "status": 431,
                "detail": f"The request line and headers exceed {self.max_head_bytes} bytes.",
            }
        ).encode()
        head = (
            "HTTP/1.1 431 Request Header Fields Too Large\r\n"
            "content-type: application/problem+json\r\n"
            f"content-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        ).encode()
        self.transport.write(head + body)
        self.transport.close()


def http_protocol(max_head_bytes: int) -> type[HeadLimitedHttpToolsProtocol]:
    """The protocol class to give uvicorn (`http=`), refusing heads over `max_head_bytes`."""
    return type("HttpProtocol", (HeadLimitedHttpToolsProtocol,), {"max_head_bytes": max_head_bytes})

"""Servers on real sockets, for tests that need them: limits that live in the HTTP parser,
headers that the server itself adds, clients that send too little or too much.

`serving_in_thread` runs any server (uvicorn's, the standard library's, an SMTP server's
loop) in a thread of its own and stops it afterwards; `live_server` runs a stage's app with
`uvicorn_options`, exactly as `python -m <stage>` runs it, on a free port. Requests are raw
bytes (`exchange`), so they can be malformed.
"""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

import uvicorn
from fastapi import FastAPI

from roadmap_shared.serve import uvicorn_options
from roadmap_shared.settings import AppSettings
from roadmap_shared.testing.private_servers import free_port

STARTUP_SECONDS = 10
# Only bounds a test that would otherwise hang; the server is expected to answer long before.
READ_TIMEOUT_SECONDS = 10


@contextmanager
def serving_in_thread(
    serve: Callable[[], object],
    stop: Callable[[], object],
    *,
    started: Callable[[], bool] = lambda: True,
) -> Iterator[None]:
    """Runs `serve` (a blocking loop) in a thread until the block ends, then calls `stop`
    and waits for the thread. `started` tells when the server accepts connections (a server
    that binds its socket before `serve` is called accepts them at once)."""
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    began = time.monotonic()
    while not started():
        if not thread.is_alive() or time.monotonic() - began > STARTUP_SECONDS:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield
    finally:
        stop()
        thread.join(STARTUP_SECONDS)


@contextmanager
def live_server(app: FastAPI, settings: AppSettings) -> Iterator[int]:
    """Serves `app` on 127.0.0.1; yields the port."""
    options = {**uvicorn_options(settings), "host": "127.0.0.1", "port": free_port()}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    # uvicorn stops at its next tick once `should_exit` is set.
    stop = partial(setattr, server, "should_exit", True)
    with serving_in_thread(server.run, stop, started=lambda: server.started):
        yield options["port"]


def exchange(port: int, request: bytes) -> bytes:
    """Sends `request` and returns everything the server sends until it closes (requests
    should say `Connection: close`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT_SECONDS) as sock:
        sock.sendall(request)
        return read_until_closed(sock)


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the peer sends until it closes the connection."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        # A server that answers before reading the whole request closes with bytes unread,
        # which resets the connection once the answer has been delivered.
        pass
    return received


def header_lines(response: bytes) -> list[bytes]:
    """The header lines of a raw HTTP response, lower-cased, without the status line."""
    head = response.split(b"\r\n\r\n", 1)[0]
    return [line.lower() for line in head.split(b"\r\n")[1:]]

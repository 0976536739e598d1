"""A real uvicorn server for tests that need real sockets: limits that live in the HTTP
parser, headers that the server itself adds, clients that send too little or too much.

The server runs with `uvicorn_options`, exactly as `python -m <stage>` runs it, in a
thread of its own on a free port. Requests are raw bytes, so they can be malformed.
"""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from roadmap_shared.serve import uvicorn_options
from roadmap_shared.settings import AppSettings

STARTUP_SECONDS = 10
# Only bounds a test that would otherwise hang; the server is expected to answer long before.
READ_TIMEOUT_SECONDS = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def live_server(app: FastAPI, settings: AppSettings) -> Iterator[int]:
    """Serves `app` on 127.0.0.1; yields the port."""
    options = {**uvicorn_options(settings), "host": "127.0.0.1", "port": free_port()}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = time.monotonic()
    while not server.started:
        if not thread.is_alive() or time.monotonic() - started > STARTUP_SECONDS:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield options["port"]
    finally:
        server.should_exit = True
        thread.join(STARTUP_SECONDS)


def exchange(port: int, request: bytes) -> bytes:
    """Sends `request` and returns everything the server sends until it closes (requests
    should say `Connection: close`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT_SECONDS) as sock:
        sock.sendall(request)
        return read_until_closed(sock)


def read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:  # the server closed with some of our request unread
        pass
    return received


def header_lines(response: bytes) -> list[bytes]:
    head = response.split(b"\r\n\r\n", 1)[0]
    return [line.lower() for line in head.split(b"\r\n")[1:]]

"""What a stage's server does with hostile clients, over real sockets: huge heads, bodies
that never finish, bytes that are not UTF-8, and what it says about itself."""

import re
import select
import socket
from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from pydantic import BaseModel

from roadmap_shared.app import create_app
from roadmap_shared.settings import AppSettings, Environment
from roadmap_shared.testing.live_server import (
    exchange,
    header_lines,
    live_server,
    read_until_closed,
)

BODY_READ_TIMEOUT_SECONDS = 0.5


class Echo(BaseModel):
    text: str


router = APIRouter()


@router.post("/echo")
async def echo(body: Echo) -> Echo:
    return body


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    settings = AppSettings(
        environment=Environment.TEST, body_read_timeout_seconds=BODY_READ_TIMEOUT_SECONDS
    )
    with live_server(create_app(settings, title="Live", routers=[router]), settings) as port:
        yield port


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def test_a_small_request_is_served(port: int) -> None:
    body = b'{"text": "hi"}'
    response = exchange(
        port,
        b"POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body),
    )
    assert status_of(response) == 200
    assert response.endswith(body.replace(b" ", b""))


def test_the_server_does_not_name_itself_but_says_the_date(port: int) -> None:
    response = exchange(port, b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    lines = header_lines(response)
    assert not [line for line in lines if line.startswith(b"server:")]
    assert [line for line in lines if line.startswith(b"date:")]


def test_a_request_id_that_is_not_utf8_is_replaced(port: int) -> None:
    response = exchange(
        port,
        b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Request-ID: \xff\xe9\r\nConnection: close\r\n\r\n",
    )
    assert status_of(response) == 200
    [request_id] = [line for line in header_lines(response) if line.startswith(b"x-request-id:")]
    assert re.fullmatch(rb"x-request-id: [0-9a-f]{32}", request_id)


@pytest.mark.parametrize("header_bytes", [20_000, 8 * 1024 * 1024])
def test_a_huge_request_head_gets_431(port: int, header_bytes: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ")
        chunk = b"a" * 16_384
        sent = 0
        # Sent piece by piece, stopping as soon as the server answers, as a real client
        # would have to: the server does not read the rest of a head it has refused.
        while sent < header_bytes and not select.select([sock], [], [], 0.01)[0]:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        else:
            if sent >= header_bytes:
                sock.sendall(b"\r\nConnection: close\r\n\r\n")
        response = read_until_closed(sock)
    assert status_of(response) == 431
    assert sent < 1024 * 1024, "the server read a megabyte of headers before refusing"


def test_a_head_of_usual_size_is_accepted(port: int) -> None:
    cookie = b"c=" + b"a" * 8000
    response = exchange(
        port,
        b"GET /healthz HTTP/1.1\r\nHost: t\r\nCookie: %s\r\nConnection: close\r\n\r\n" % cookie,
    )
    assert status_of(response) == 200


def test_a_body_shorter_than_its_content_length_gets_408_in_bounded_time(port: int) -> None:
    response = exchange(
        port,
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"text": ',
    )
    # Without the deadline the server waits for 90 more bytes until the test's own
    # socket timeout, and the response is empty.
    assert status_of(response) == 408
    assert b"connection: close" in header_lines(response)
    assert b"application/problem+json" in response


def test_a_huge_head_arriving_in_one_piece_gets_431(port: int) -> None:
    big = b"a" * 20_000
    response = exchange(
        port, b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: %s\r\nConnection: close\r\n\r\n" % big
    )
    assert status_of(response) == 431


@pytest.mark.parametrize("head", [b"GET /healthz HTTP/1.1\r\nHost: t\r\n", b""])
def test_a_head_that_never_finishes_gets_408_in_bounded_time(port: int, head: bytes) -> None:
    # Slowloris: a head sent in part (or nothing at all) would otherwise hold the
    # connection for as long as the client likes; the body deadline applies to heads too.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        response = read_until_closed(sock)
    assert status_of(response) == 408
    assert b"application/problem+json" in response

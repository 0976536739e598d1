"""The standard-library server, spoken to over a real socket."""

import json
import select
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import Message
from functools import partial
from http.client import HTTPConnection
from typing import Any
from urllib.parse import urlsplit

import pytest

from books_api import hello
from books_api.hello import MAX_BODY_BYTES, HelloServer
from roadmap_shared.testing.live_server import read_until_closed, serving_in_thread

TIMEOUT = 10  # seconds; every socket operation gives up after this, so no test can hang
PROBLEM = "application/problem+json"


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@pytest.fixture
def server() -> Iterator[HelloServer]:
    server = HelloServer(("127.0.0.1", 0))  # listening from here: no start to wait for
    # `shutdown()` takes up to one poll interval (0.5 s by default) to be noticed.
    serve = partial(server.serve_forever, poll_interval=0.01)
    try:
        with serving_in_thread(serve, server.shutdown):
            yield server
    finally:
        server.server_close()


def address(server: HelloServer) -> tuple[str, int]:
    host, port = server.server_address[:2]
    return str(host), port


def send(
    server: HelloServer,
    method: str,
    path: str,
    *,
    json_body: Any = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    headers = dict(headers or {})
    if json_body is not None:
        content = json.dumps(json_body).encode()
        headers.setdefault("Content-Type", "application/json")
    connection = HTTPConnection(*address(server), timeout=TIMEOUT)
    try:
        connection.request(method, path, body=content, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def send_raw(server: HelloServer, request: bytes) -> Answer:
    """Sends bytes exactly as given (http.client would fix up what these tests break)."""
    with socket.create_connection(address(server), timeout=TIMEOUT) as connection:
        connection.sendall(request)
        return read_answer(connection)


def read_answer(connection: socket.socket) -> Answer:
    # HTTP/1.0: the server closes the connection after the response.
    received = read_until_closed(connection)
    assert received, "the connection was closed before any answer"
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = Message()
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name] = value.strip()
    return Answer(int(status_line.split()[1]), headers, body)


def test_a_get_answers_200_with_a_json_body_and_its_length(server: HelloServer) -> None:
    answer = send(server, "GET", "/")

    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["Content-Length"] == str(len(answer.body))
    assert answer.json() == {"message": "Hello, world!"}


def test_creating_answers_201_with_the_new_resource_and_its_location(
    server: HelloServer,
) -> None:
    created = send(server, "POST", "/greetings", json_body={"name": "Ada"})

    assert created.status == 201
    assert created.headers["Content-Type"] == "application/json"
    assert created.json() == {"id": 1, "name": "Ada", "message": "Hello, Ada!"}
    assert created.headers["Location"] == "/greetings/1"

    fetched = send(server, "GET", created.headers["Location"])
    assert (fetched.status, fetched.json()) == (200, created.json())
    listed = send(server, "GET", "/greetings")
    assert listed.json() == {"items": [created.json()]}


def test_the_query_string_is_not_part_of_the_path(server: HelloServer) -> None:
    assert send(server, "GET", "/greetings?page=2").status == 200


@pytest.mark.parametrize("path", ["/nowhere", "/greetings/", "/greetings/abc", "/greetings/99"])
def test_an_unknown_path_or_id_is_404_with_a_problem_body(server: HelloServer, path: str) -> None:
    answer = send(server, "GET", path)

    assert answer.status == 404
    assert answer.headers["Content-Type"] == PROBLEM
    assert answer.json()["status"] == 404
    assert answer.headers["Content-Length"] == str(len(answer.body))


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("DELETE", "/greetings", "GET, POST"), ("POST", "/", "GET"), ("PUT", "/greetings/1", "GET")],
)
def test_a_known_path_with_the_wrong_method_is_405_listing_the_allowed_ones(
    server: HelloServer, method: str, path: str, allow: str
) -> None:
    answer = send(server, method, path, json_body={"name": "Ada"})

    assert answer.status == 405
    assert answer.headers["Allow"] == allow
    assert answer.headers["Content-Type"] == PROBLEM


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"name": "Ada"', b"\xff\xfe", b"", b"[]", b'{"name": ""}', b'{"name": 7}'],
)
def test_a_body_that_is_not_a_valid_greeting_is_400(server: HelloServer, content: bytes) -> None:
    answer = send(
        server, "POST", "/greetings", content=content, headers={"Content-Type": "application/json"}
    )

    assert answer.status == 400
    assert answer.headers["Content-Type"] == PROBLEM
    assert answer.json()["title"] == "Bad Request"
    assert send(server, "GET", "/greetings").json() == {"items": []}


def test_a_body_that_is_not_json_is_415(server: HelloServer) -> None:
    answer = send(
        server, "POST", "/greetings", content=b"name=Ada", headers={"Content-Type": "text/plain"}
    )
    assert answer.status == 415


def test_a_body_over_the_limit_is_413_before_a_byte_of_it_is_read(server: HelloServer) -> None:
    # Only the headers are sent: the server must answer from Content-Length alone.
    answer = send_raw(
        server,
        b"POST /greetings HTTP/1.0\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % (MAX_BODY_BYTES + 1),
    )

    assert answer.status == 413
    assert answer.headers["Content-Type"] == PROBLEM


def test_a_body_needs_a_valid_content_length(server: HelloServer) -> None:
    missing = send_raw(
        server, b"POST /greetings HTTP/1.0\r\nContent-Type: application/json\r\n\r\n"
    )
    garbage = send_raw(
        server,
        b"POST /greetings HTTP/1.0\r\nContent-Type: application/json\r\n"
        b"Content-Length: ten\r\n\r\n",
    )

    superscript = send_raw(
        server,
        b"POST /greetings HTTP/1.0\r\nContent-Type: application/json\r\n"
        b"Content-Length: \xc2\xb2\r\n\r\n",  # "²" is a digit to str.isdigit, not to int()
    )

    assert missing.status == 411
    assert garbage.status == 400
    assert superscript.status == 400


POST_HEAD = b"POST /greetings HTTP/1.0\r\nContent-Type: application/json\r\n"


def test_conflicting_content_lengths_are_400_not_a_guess(server: HelloServer) -> None:
    answer = send_raw(
        server,
        POST_HEAD + b'Content-Length: 15\r\nContent-Length: 5\r\n\r\n{"name": "Ada"}',
    )

    assert answer.status == 400
    assert send(server, "GET", "/greetings").json() == {"items": []}


def test_a_chunked_body_is_refused_with_501_not_misread(server: HelloServer) -> None:
    answer = send_raw(
        server,
        POST_HEAD + b'Transfer-Encoding: chunked\r\nContent-Length: 15\r\n\r\n{"name": "Ada"}',
    )

    assert answer.status == 501
    assert answer.headers["Content-Type"] == PROBLEM


def test_a_content_length_too_long_to_parse_is_413_not_500(server: HelloServer) -> None:
    # int() refuses strings of more than 4,300 digits.
    answer = send_raw(server, POST_HEAD + b"Content-Length: %s\r\n\r\n" % (b"9" * 5000))

    assert answer.status == 413


def test_json_nested_deeper_than_python_recurses_is_400_not_500(server: HelloServer) -> None:
    answer = send(
        server,
        "POST",
        "/greetings",
        content=b"[" * 1000,
        headers={"Content-Type": "application/json"},
    )

    assert answer.status == 400


def test_a_body_cut_short_by_the_client_is_400_not_a_truncated_create(
    server: HelloServer,
) -> None:
    # The first 15 bytes are valid JSON on their own: they must not be taken for the body.
    with socket.create_connection(address(server), timeout=TIMEOUT) as connection:
        connection.sendall(POST_HEAD + b'Content-Length: 100\r\n\r\n{"name": "Ada"}')
        connection.shutdown(socket.SHUT_WR)
        answer = read_answer(connection)

    assert answer.status == 400
    assert "15 of 100 bytes" in answer.json()["detail"]
    assert send(server, "GET", "/greetings").json() == {"items": []}


def test_a_body_that_stops_arriving_is_408_when_the_deadline_passes(
    server: HelloServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hello, "BODY_DEADLINE_SECONDS", 0.2)

    answer = send_raw(server, POST_HEAD + b'Content-Length: 100\r\n\r\n{"name"')

    assert answer.status == 408
    assert answer.headers["Content-Type"] == PROBLEM


def test_a_body_sent_a_byte_at_a_time_is_cut_off_at_the_deadline(
    server: HelloServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each byte arrives well within the socket timeout: only a deadline for the whole body
    # stops this client from holding a thread for as long as it likes.
    monkeypatch.setattr(hello, "BODY_DEADLINE_SECONDS", 0.2)
    with socket.create_connection(address(server), timeout=TIMEOUT) as connection:
        connection.sendall(POST_HEAD + b"Content-Length: %d\r\n\r\n" % MAX_BODY_BYTES)
        for _ in range(MAX_BODY_BYTES):  # JSON allows that much whitespace
            readable, _, _ = select.select([connection], [], [], 0.02)
            if readable:
                break  # the server has answered
            connection.sendall(b" ")
        answer = read_answer(connection)

    assert answer.status == 408


def test_a_bug_in_a_handler_is_a_500_without_internals(
    server: HelloServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(name: str) -> dict[str, Any]:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(server.greetings, "add", broken)

    answer = send(server, "POST", "/greetings", json_body={"name": "Ada"})

    assert answer.status == 500
    assert answer.headers["Content-Type"] == PROBLEM
    assert b"secret" not in answer.body


def test_concurrent_creates_get_distinct_ids(server: HelloServer) -> None:
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(
            pool.map(
                lambda n: send(server, "POST", "/greetings", json_body={"name": f"N{n}"}),
                range(30),
            )
        )

    assert sorted(answer.json()["id"] for answer in answers) == list(range(1, 31))


def start_slow_request(server_address: tuple[str, int]) -> tuple[socket.socket, bytes]:
    """Opens a create request and sends all but the end of its body; returns the socket
    and the bytes still to send. Then proves the server has taken the connection: a second,
    later connection is answered, and connections are accepted in the order they arrive."""
    body = b'{"name": "Grace"}'
    slow = socket.create_connection(server_address, timeout=TIMEOUT)
    slow.sendall(
        b"POST /greetings HTTP/1.0\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body[:5])
    )
    with socket.create_connection(server_address, timeout=TIMEOUT) as later:
        later.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert read_answer(later).status == 200
    return slow, body[5:]


def test_shutdown_finishes_the_request_in_flight_then_stops(server: HelloServer) -> None:
    slow, rest = start_slow_request(address(server))
    stopped_accepting = threading.Event()

    def stop() -> None:
        server.shutdown()
        stopped_accepting.set()
        server.server_close()  # waits for the request in flight

    stopper = threading.Thread(target=stop)
    stopper.start()
    assert stopped_accepting.wait(TIMEOUT)

    with slow:
        slow.sendall(rest)
        answer = read_answer(slow)
    stopper.join(TIMEOUT)

    assert answer.status == 201
    assert answer.json()["name"] == "Grace"
    assert not stopper.is_alive()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address(server), timeout=TIMEOUT)


def test_sigterm_finishes_the_request_in_flight_then_exits_cleanly() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "books_api.hello", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        url = urlsplit(process.stdout.readline().split()[-1])
        assert url.hostname is not None
        assert url.port is not None
        slow, rest = start_slow_request((url.hostname, url.port))

        process.send_signal(signal.SIGTERM)
        # stderr also carries the access log; wait for the line that says it is stopping.
        while "stopping" not in (line := process.stderr.readline()):
            assert line, "the server exited without finishing the request"
        with slow:
            slow.sendall(rest)
            answer = read_answer(slow)

        assert answer.status == 201
        assert process.wait(TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(TIMEOUT)

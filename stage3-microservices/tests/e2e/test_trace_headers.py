"""The gateway is where the shop's traces begin: a client may not choose their parent.

A `traceparent` sent from outside would make the services' spans children of a trace the
client invented (or of someone else's, if it copied one), and its sampled flag would
decide what the shop records. nginx clears both headers on the way in. This test puts
the real nginx config in front of a stand-in upstream that records what reaches it."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from roadmap_shared.testing.private_servers import free_port
from tests.e2e.conftest import nginx_binary
from tests.e2e.processes import GATEWAY_CONFIG, gateway

CLIENT_TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class Recorder(BaseHTTPRequestHandler):
    """Answers every request with 200, keeping the headers it came with."""

    received: list[dict[str, str]] = []  # noqa: RUF012 (one upstream per test)

    def do_GET(self) -> None:
        self.received.append({name.lower(): value for name, value in self.headers.items()})
        body = json.dumps({"items": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[str]:
    Recorder.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("path", ["/orders", "/products"])
def test_a_client_sent_traceparent_does_not_reach_the_services(
    path: str, upstream: str, tmp_path: Path
) -> None:
    upstreams = {"catalog": [upstream], "orders": [upstream]}
    with gateway(
        nginx_binary(),
        GATEWAY_CONFIG.read_text(),
        port=free_port(),
        upstreams=upstreams,
        directory=tmp_path,
    ) as url:
        answer = httpx.get(
            f"{url}{path}",
            headers={"traceparent": CLIENT_TRACEPARENT, "tracestate": "vendor=chosen-by-client"},
        )

    assert answer.status_code == 200, answer.text
    (headers,) = Recorder.received
    assert "traceparent" not in headers
    assert "tracestate" not in headers
    assert headers["x-request-id"]  # the gateway's own headers still pass

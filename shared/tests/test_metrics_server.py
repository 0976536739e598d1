"""A worker's metrics on a port of its own: served while the block runs, gone after it,
and nothing served on port 0."""

import httpx
import pytest
from prometheus_client import Counter

from roadmap_shared.metrics_server import metrics_served
from roadmap_shared.testing.private_servers import free_port

WORKED = Counter("metrics_server_test_work", "Work a test worker did")


def test_the_process_metrics_are_served_while_the_block_runs() -> None:
    port = free_port()
    WORKED.inc()
    with metrics_served("127.0.0.1", port):
        answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5.0)
        assert answer.status_code == 200
        assert "metrics_server_test_work_total 1.0" in answer.text
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5.0)


def test_port_0_serves_nothing() -> None:
    with metrics_served("127.0.0.1", 0):
        pass

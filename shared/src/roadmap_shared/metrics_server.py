"""A worker's metrics on a port of its own.

An app serves its metrics at `/metrics` on its HTTP port (roadmap_shared.metrics). A worker
(an outbox relay, a consumer, a periodic job) has no HTTP app, yet updates metrics the
alerts read: without a port of its own, Prometheus never sees them and those alerts never
fire. `metrics_served` serves this process's registry, in Prometheus's text format, with
prometheus_client's own server, on a thread of its own: a worker's event loop, however
busy, does not delay a scrape.

The port is for Prometheus on the private network, never published: unlike an app's
`/metrics`, it asks no token.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import start_http_server

# A scrape in flight when the worker stops ends within this; the worker does not wait longer.
STOP_SECONDS = 5.0


@contextmanager
def metrics_served(host: str, port: int) -> Iterator[None]:
    """Serves this process's metrics at `http://host:port/metrics` while the block runs;
    port 0 serves nothing (tests, a process nobody scrapes)."""
    if port == 0:
        yield
        return
    server, thread = start_http_server(port, addr=host)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(STOP_SECONDS)

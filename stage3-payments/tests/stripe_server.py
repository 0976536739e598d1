"""localstripe, a stateful Stripe emulator (GPL; a test-only dependency never imported by
the app), run as a separate process on loopback for the tests.

It speaks Stripe's wire format (form-encoded requests, JSON objects, Stripe's error bodies)
for customers, PaymentIntents, charges and refunds, so the real `stripe` client talks to
it through `PAYMENTS_STRIPE_API_BASE` as it would to Stripe. Its known gaps (no
Idempotency-Key replay, no over-refund check, no Prices or Checkout) are why the app's own
guarantees are tested against our database, not against it.
"""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

# Bound to 127.0.0.1 explicitly (its own command line listens on every interface), and
# kept in memory (by default it pickles its state to a file in /tmp after every change).
_LAUNCH = """
import sys
from aiohttp import web
from localstripe import resources
from localstripe.server import app
type(resources.store).dump_to_disk = lambda self: None
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""

API_KEY = "sk_test_localstripe"  # localstripe accepts any key of this shape


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"localstripe did not listen on port {port} within {seconds} s")


@contextmanager
def localstripe() -> Iterator[str]:
    """Starts localstripe; yields its base URL, for `PAYMENTS_STRIPE_API_BASE`."""
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 (our interpreter, our arguments)
        [sys.executable, "-c", _LAUNCH, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_listening(port, process, seconds=20)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)

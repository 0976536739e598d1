"""localstripe as a separate process for a test: started on a free loopback port, waited
for, stopped. localstripe is GPL: it runs beside the tests, never inside an application."""

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from roadmap_shared.testing import localstripe_server
from roadmap_shared.testing.private_servers import free_port, wait_until_listening

STOP_SECONDS = 10


@contextmanager
def localstripe() -> Iterator[str]:
    """Yields the base URL of a fresh localstripe, e.g. `http://127.0.0.1:40123`."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own module, a fixed command
        [sys.executable, "-m", localstripe_server.__name__, "--port", str(port)],
        stdout=subprocess.DEVNULL,  # its access log; errors still reach stderr
    )
    try:
        wait_until_listening(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

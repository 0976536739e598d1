"""The stage's processes on loopback: a service as `python -m <package>`, and the gateway
as Debian's nginx with the compose file's config rewritten for loopback. The end-to-end
tests (`conftest.py`) and the benchmark (`benchmarks/bench.py`) start the shop with them."""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from roadmap_shared.testing.private_servers import free_port, wait_until_listening

STAGE = Path(__file__).parents[2]
GATEWAY_CONFIG = STAGE / "gateway/nginx.conf"
STOP_SECONDS = 10
# Nine processes importing at once on a busy two-core machine: each may take a while.
START_SECONDS = 120


@dataclass
class Service:
    """A service started as `python -m <package>` (or `-m <module>`, a worker of it) with
    its environment. A worker listens on no port: `heartbeat` is the file it touches once
    it works (a relay's, after its first pass)."""

    package: str
    environment: dict[str, str]
    port: int = field(default_factory=free_port)
    process: "subprocess.Popen[bytes] | None" = None
    module: str | None = None
    heartbeat: Path | None = None

    def start(self) -> None:
        self.launch()
        self.wait_until_ready()

    def launch(self) -> None:
        prefix = self.package.upper()
        environment = {**os.environ, **self.environment, f"{prefix}_PORT": str(self.port)}
        self.process = subprocess.Popen(  # noqa: S603 (our own service)
            [sys.executable, "-m", self.module or self.package], cwd=STAGE, env=environment
        )

    def wait_until_ready(self) -> None:
        """Until it listens (a worker: writes its heartbeat); fails at once if it exits."""
        assert self.process is not None, "not launched"
        deadline = time.monotonic() + START_SECONDS
        while not self._ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.process.args!r} exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.module or self.package} not ready in {START_SECONDS} s")
            time.sleep(0.05)

    def _ready(self) -> bool:
        if self.heartbeat is not None:
            return self.heartbeat.exists()
        try:
            socket.create_connection(("127.0.0.1", self.port), 0.2).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_SECONDS)
        self.process = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def on_loopback(config: str, *, port: int, upstreams: dict[str, list[str]], directory: Path) -> str:
    """The compose config with loopback addresses, and everything nginx writes in
    `directory`, so it runs without touching the system's paths."""
    config, listens = re.subn(r"listen \d+;", f"listen 127.0.0.1:{port};", config)
    assert listens == 1, "nginx.conf no longer has the expected shape"
    for name, servers in upstreams.items():
        lines = "".join(f"server {address};\n" for address in servers)
        config, found = re.subn(rf"(upstream {name} \{{)[^}}]*", rf"\1\n{lines}", config)
        assert found == 1, f"nginx.conf has no upstream {name}"
    paths = "".join(
        f"{kind}_temp_path {directory / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"pid {directory / 'nginx.pid'};\nerror_log {directory / 'error.log'};\n"
        + config.replace("http {", f"http {{\naccess_log {directory / 'access.log'};\n{paths}", 1)
    )


@contextmanager
def gateway(
    binary: str, config: str, *, port: int, upstreams: dict[str, list[str]], directory: Path
) -> Iterator[str]:
    """nginx with `config` (the text of `gateway/nginx.conf`, or a variant of it) on
    loopback, in front of `upstreams`; yields its base URL and stops it afterwards."""
    path = directory / "nginx.conf"
    path.write_text(on_loopback(config, port=port, upstreams=upstreams, directory=directory))
    command = [binary, "-p", str(directory), "-c", str(path), "-e", str(directory / "error.log")]
    subprocess.run([*command, "-t", "-q"], check=True, timeout=STOP_SECONDS)  # noqa: S603
    nginx = subprocess.Popen([*command, "-g", "daemon off;"])  # noqa: S603
    try:
        wait_until_listening(port, nginx)
        yield f"http://127.0.0.1:{port}"
    finally:
        nginx.terminate()
        nginx.wait(STOP_SECONDS)

"""Benchmark helpers: run a stage in a real server process and measure it over loopback.

Benchmarks report ratios against a baseline measured in the same run (a trivial endpoint
of the same app), because absolute numbers depend on the machine and on what else it is
doing; the ratio says what the endpoint itself costs.

They also report the server's CPU time per request: the process's own user and system time
(read from the kernel before and after each run), divided by the requests. On a loaded
machine throughput falls, but a request still costs the server about the same CPU, so this
is the number to compare between two versions of the code.
"""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from roadmap_shared.testing.private_servers import free_port

Request = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]
WARM_UP_REQUESTS = 50
# Imports and the first connections; a busy machine (CI, a shared box) needs the margin.
STARTUP_SECONDS = 90


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int
    # The server's CPU seconds over the run, when the benchmark could read them.
    cpu_seconds: float | None = None

    @property
    def cpu_ms_per_request(self) -> float | None:
        return None if self.cpu_seconds is None else self.cpu_seconds * 1000 / self.requests

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


CpuClock = Callable[[], float | None]


def process_cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of process `pid` so far; None where /proc does not exist."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime, the 14th and 15th fields, counted in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def cpu_seconds(self) -> float | None:
        return process_cpu_seconds(self.pid)


@contextmanager
def running_server(app_factory: str, env: Mapping[str, str]) -> Iterator[str]:
    """Starts `uvicorn --factory app_factory` in a child process; yields its base URL."""
    with served(app_factory, env) as server:
        yield server.url


@contextmanager
def served(app_factory: str, env: Mapping[str, str]) -> Iterator[Server]:
    """`running_server`, yielding the server (its URL, and its CPU time on demand)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", app_factory]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    command += ["--log-level", "warning"]
    process = subprocess.Popen(command, env={**os.environ, **env})  # noqa: S603
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server for {app_factory} did not start")
            time.sleep(0.1)
        # The first requests pay for imports and connection set-up; keep them out of the
        # measurements, where they would show up as a p99 spike.
        with httpx.Client(base_url=base_url) as client:
            for _ in range(WARM_UP_REQUESTS):
                client.get("/healthz")
        yield Server(base_url, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)


async def measure(
    client: httpx.AsyncClient,
    name: str,
    request: Request,
    *,
    total: int,
    concurrency: int,
    cpu: CpuClock | None = None,
) -> Result:
    """Sends `total` requests, `concurrency` at a time; a non-2xx answer counts as an error.
    Given the server's `cpu` clock (`Server.cpu_seconds`), the result has its CPU time.

    Says which endpoint it is on (on stderr, away from the tables on stdout): a run takes
    minutes, and a silent one looks stuck."""
    print(f"bench: {name} ({total} requests)", file=sys.stderr, flush=True)
    latencies: list[float] = []
    errors = 0
    remaining = iter(range(total))

    async def worker() -> None:
        nonlocal errors
        for _ in remaining:
            started = time.perf_counter()
            response = await request(client)
            latencies.append((time.perf_counter() - started) * 1000)
            errors += not response.is_success

    cpu_before = cpu() if cpu else None
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    cpu_after = cpu() if cpu else None
    cpu_seconds = (
        cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    )
    return Result(name, total, seconds, latencies, errors, cpu_seconds)


def print_section(title: str, results: list[Result], baseline: Result) -> None:
    """A table of results with each one's throughput and p99 as a ratio to the baseline,
    and the server's CPU milliseconds per request when they were measured."""
    print(f"\n## {title}")
    print(
        f"{'endpoint':<40}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}"
        f"{'req/s vs base':>14}{'p99 vs base':>12}{'CPU ms/req':>11}"
    )
    for result in [baseline, *results]:
        cpu_ms = result.cpu_ms_per_request
        print(
            f"{result.name:<40}{result.rps:>8.0f}{result.percentile(50):>8.2f}"
            f"{result.percentile(99):>8.2f}{result.errors:>7}"
            f"{result.rps / baseline.rps:>14.2f}"
            f"{result.percentile(99) / baseline.percentile(99):>12.2f}"
            f"{'-' if cpu_ms is None else f'{cpu_ms:.2f}':>11}"
        )

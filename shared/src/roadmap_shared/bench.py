"""Benchmark helpers: run a stage in a real server process and measure it over loopback.

Benchmarks report ratios against a baseline measured in the same run (a trivial endpoint
of the same app), because absolute numbers depend on the machine and on what else it is
doing; the ratio says what the endpoint itself costs.
"""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from roadmap_shared.testing.private_servers import free_port

Request = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]
WARM_UP_REQUESTS = 50


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


@contextmanager
def running_server(app_factory: str, env: Mapping[str, str]) -> Iterator[str]:
    """Starts `uvicorn --factory app_factory` in a child process; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", app_factory]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    command += ["--log-level", "warning"]
    process = subprocess.Popen(command, env={**os.environ, **env})  # noqa: S603
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
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
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)


async def measure(
    client: httpx.AsyncClient, name: str, request: Request, *, total: int, concurrency: int
) -> Result:
    """Sends `total` requests, `concurrency` at a time; a non-2xx answer counts as an error.

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

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, total, time.perf_counter() - started, latencies, errors)


def print_section(title: str, results: list[Result], baseline: Result) -> None:
    """A table of results with each one's throughput and p99 as a ratio to the baseline."""
    print(f"\n## {title}")
    print(
        f"{'endpoint':<34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'req/s vs base':>15}{'p99 vs base':>13}"
    )
    for result in [baseline, *results]:
        print(
            f"{result.name:<34}{result.rps:>9.0f}{result.percentile(50):>9.2f}"
            f"{result.percentile(99):>9.2f}{result.errors:>8}"
            f"{result.rps / baseline.rps:>15.2f}"
            f"{result.percentile(99) / baseline.percentile(99):>13.2f}"
        )

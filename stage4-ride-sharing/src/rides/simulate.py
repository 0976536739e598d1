"""`python -m rides.simulate`: drivers and riders in a city, against a running stage.

With `--url` (or `SIM_URL`), it plays against that API and its dispatchers. Without, it
starts the API (uvicorn on a free loopback port) and one dispatcher itself, with the
stage's settings (`RIDES_*`, as `make run` reads them; the database must be migrated:
`make simulate` does it), and stops them at the end.

It shows one line of progress while it runs (matches per second, the time to match, offers
declined, idle drivers), stops by itself after `--seconds` (`SIM_SECONDS`, 30 by default)
and prints a summary. Exit status 0, or 1 if a client met an error it did not expect.

A server started elsewhere limits sign-ins per address (`RIDES_LOGINS_PER_MINUTE_PER_ADDRESS`,
20 a minute): with more drivers and riders than that, the simulator waits its turn, or
raise the limit for the run.
"""

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import subprocess
import sys
import time
from collections.abc import Awaitable, Iterator, Sequence

import httpx

from rides.config import get_settings
from rides.simulator.actors import CityBox, Driver, Rider, World, signed_up
from rides.simulator.stats import Stats
from rides.worker import is_alive
from roadmap_shared.bench import served

REFRESH_SECONDS = 0.5
SETUP_SECONDS = 120
# The simulator signs everyone in from one address, far faster than a person would.
OWN_SERVER_ENV = {"RIDES_LOGINS_PER_MINUTE_PER_ADDRESS": "100000", "RIDES_LOG_LEVEL": "WARNING"}


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m rides.simulate", description=__doc__)
    environ = os.environ.get
    parser.add_argument("--url", default=environ("SIM_URL"), help="a running API (SIM_URL)")
    parser.add_argument("--drivers", type=int, default=int(environ("SIM_DRIVERS", "20")))
    parser.add_argument("--riders", type=int, default=int(environ("SIM_RIDERS", "10")))
    parser.add_argument("--seconds", type=float, default=float(environ("SIM_SECONDS", "30")))
    parser.add_argument(
        "--decline",
        type=float,
        default=float(environ("SIM_DECLINE", "0.2")),
        help="the share of offers a driver declines (SIM_DECLINE, 0.2)",
    )
    parser.add_argument("--seed", type=int, default=None, help="repeat a run's random choices")
    return parser.parse_args(argv)


@contextlib.contextmanager
def own_stage() -> Iterator[str]:
    """The API and one dispatcher on loopback; the API's base URL."""
    env = {**os.environ, **OWN_SERVER_ENV}
    with served("rides.main:create_app", OWN_SERVER_ENV) as server:
        worker = subprocess.Popen([sys.executable, "-m", "rides.worker"], env=env)
        try:
            wait_for_the_dispatcher(worker)
            yield server.url
        finally:
            # A dispatcher stops between trips: one waiting on an offer (whose driver has
            # gone with the simulation) waits until it expires.
            worker.terminate()
            try:
                worker.wait(timeout=get_settings().offer_seconds + 5)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def wait_for_the_dispatcher(worker: "subprocess.Popen[bytes]") -> None:
    """Until the dispatcher has stepped: trips requested before would wait for it, and the
    first times to match would measure how long Python takes to import."""
    deadline = time.monotonic() + SETUP_SECONDS
    while not asyncio.run(is_alive(get_settings())):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the dispatcher (python -m rides.worker) did not start")
        time.sleep(0.2)


async def show_progress(stats: Stats) -> None:
    """One line rewritten in place on a terminal; a line every few seconds in a log."""
    on_terminal = sys.stdout.isatty()
    shown = 0
    while True:
        await asyncio.sleep(REFRESH_SECONDS)
        if on_terminal:
            print(f"\r\033[K{stats.line()}", end="", flush=True)
        elif stats.elapsed() - shown >= 5:
            shown = int(stats.elapsed())
            print(stats.line(), flush=True)


async def guarded(stats: Stats, name: str, actor: Awaitable[None]) -> None:
    """Runs an actor; what it raises is counted and shown, and ends that actor only."""
    try:
        await actor
    except (httpx.HTTPError, OSError, RuntimeError, ValueError, KeyError) as error:
        stats.errors.append(f"{name}: {type(error).__name__}: {error}")


async def simulate(url: str, options: argparse.Namespace) -> Stats:
    run = secrets.token_hex(4)  # accounts of this run: a second run signs up new ones
    stats = Stats(drivers=options.drivers)
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        world = World(
            http=http,
            socket_url=url.replace("http", "ws", 1) + "/drivers/socket",
            box=CityBox(),
            stats=stats,
            rng=random.Random(options.seed),  # noqa: S311 (a simulation, not secrets)
            decline_share=options.decline,
            requested_at={},
        )
        print(f"signing up {options.drivers} drivers and {options.riders} riders at {url}")
        async with asyncio.timeout(SETUP_SECONDS):
            driver_headers = await asyncio.gather(
                *(signed_up(world, "driver", n, run) for n in range(options.drivers))
            )
            rider_headers = await asyncio.gather(
                *(signed_up(world, "rider", n, run) for n in range(options.riders))
            )
        drivers = [Driver(world, h, n) for n, h in enumerate(driver_headers)]
        riders = [Rider(world, h, n) for n, h in enumerate(rider_headers)]
        stats.started_at = time.monotonic()  # the clock starts once everyone signed up
        actors = [
            *(asyncio.create_task(guarded(stats, f"driver {d.number}", d.run())) for d in drivers),
            asyncio.create_task(show_progress(stats)),
        ]
        await asyncio.sleep(1.0)  # drivers on the map before the first request
        actors += [
            asyncio.create_task(guarded(stats, f"rider {r.number}", r.run())) for r in riders
        ]
        await asyncio.sleep(max(options.seconds - 1.0, 0.0))
        for actor in actors:
            actor.cancel()
        await asyncio.gather(*actors, return_exceptions=True)
        if sys.stdout.isatty():
            print()
        await asyncio.gather(*(rider.cancel() for rider in riders), return_exceptions=True)
    return stats


def main(argv: Sequence[str] | None = None) -> None:
    options = arguments(argv)
    with contextlib.ExitStack() as stack:
        url = options.url or stack.enter_context(own_stage())
        stats = asyncio.run(simulate(url.rstrip("/"), options))
    print(stats.summary())
    sys.exit(1 if stats.errors else 0)


if __name__ == "__main__":
    main()

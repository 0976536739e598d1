"""Stage 2 benchmark: password hashing must not stall the event loop.

A login costs one argon2id verification: 19 MiB of memory and tens of milliseconds of CPU,
on purpose. The service runs it in a thread pool, so while logins are hashing, the event
loop keeps answering everything else. This measures, in one run against a real server:

1. `GET /users/me` at rest: the baseline (token check and one query);
2. `POST /auth/login` throughput: bound by the CPU cores available for hashing;
3. `GET /users/me` while logins run flat out: its p99 as a ratio to the baseline's p99.

Hashed inline, (3) would wait behind every hash in progress, and its p99 would grow to
hundreds of milliseconds. Off the loop it still slows somewhat, because the hashes take
the CPU cores the server (and, here, the benchmark client too) would otherwise use.

It needs PostgreSQL and Redis, found like the tests find them (`TEST_POSTGRES_URL`,
`TEST_REDIS_URL`), creates a throw-away database, and drops it at the end. Run from the
stage folder: `uv run --no-sync python benchmarks/bench.py` (`make bench`).
"""

import asyncio
import os
import time
from pathlib import Path

import httpx

from roadmap_shared.bench import Result, measure, print_section, running_server
from roadmap_shared.testing.databases import migrated_database

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# A logical database no test suite uses: the limiter's keys from this run stay out of theirs.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/") + "/15"
ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"

EMAIL = "bench@example.com"
PASSWORD = "a throw-away passphrase for timing"  # noqa: S105 (a throw-away account)
CHEAP_REQUESTS = 1000
LOGINS = 120
CONCURRENCY = 10
# Enough concurrent logins to keep every hashing thread busy, with a queue behind them.
BACKGROUND_LOGINS = 2 * (os.cpu_count() or 1)


def server_env(database_url: str) -> dict[str, str]:
    return {
        "AUTH_DATABASE_URL": database_url,
        "AUTH_REDIS_URL": REDIS_URL,
        "AUTH_LOG_LEVEL": "WARNING",
        # This measures hashing, not the rate limiter: one account logs in many times.
        "AUTH_LOGIN_ATTEMPTS_PER_ACCOUNT": "1000000",
        "AUTH_LOGIN_ATTEMPTS_PER_ADDRESS": "1000000",
    }


async def login(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post("/auth/login", json={"email": EMAIL, "password": PASSWORD})


async def logins_until(stop: asyncio.Event, base_url: str) -> int:
    """Logs in, `BACKGROUND_LOGINS` at a time, until `stop` is set; returns how many."""
    done = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal done
        while not stop.is_set():
            (await login(client)).raise_for_status()
            done += 1

    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(BACKGROUND_LOGINS)))
    return done


async def run(base_url: str) -> tuple[Result, list[Result]]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        registered = await client.post(
            "/auth/register", json={"email": EMAIL, "password": PASSWORD, "display_name": "Bench"}
        )
        registered.raise_for_status()
        token = (await login(client)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        async def me(c: httpx.AsyncClient) -> httpx.Response:
            return await c.get("/users/me", headers=headers)

        await measure(client, "warm-up", me, total=100, concurrency=CONCURRENCY)
        idle = await measure(
            client, "GET /users/me (idle)", me, total=CHEAP_REQUESTS, concurrency=CONCURRENCY
        )
        logins = await measure(
            client, "POST /auth/login", login, total=LOGINS, concurrency=CONCURRENCY
        )

        stop = asyncio.Event()
        background = asyncio.create_task(logins_until(stop, base_url))
        await asyncio.sleep(0.5)  # let the hashing threads fill up
        busy = await measure(
            client,
            "GET /users/me (during logins)",
            me,
            total=CHEAP_REQUESTS,
            concurrency=CONCURRENCY,
        )
        stop.set()
        during = await background
    print(f"\n({during} logins completed in the background during the last measurement)")
    return idle, [logins, busy]


def main() -> None:
    started = time.perf_counter()
    with (
        migrated_database(POSTGRES_URL, "bench_auth", ALEMBIC_INI) as database_url,
        running_server("auth_service.main:create_app", server_env(database_url)) as url,
    ):
        baseline, results = asyncio.run(run(url))
    print_section("stage2-auth: logins (argon2id) and the event loop", results, baseline)
    busy_p99, idle_p99 = results[-1].percentile(99), baseline.percentile(99)
    print(
        f"\np99 of GET /users/me during logins: {busy_p99 / idle_p99:.1f}x its idle p99 "
        f"({busy_p99:.1f} ms vs {idle_p99:.1f} ms), on {os.cpu_count()} CPU cores "
        "shared by the server and this client."
    )
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

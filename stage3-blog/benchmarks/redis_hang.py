"""`GET /api/tags` (a cached read) while Redis hangs: p99 and throughput, against the same
endpoint with Redis up and with Redis killed (every read from PostgreSQL).

    cd stage3-blog && uv run --locked --package conduit python benchmarks/redis_hang.py

Serves the blog with uvicorn on a small seeded database (dropped at the end) and a private
`redis-server` that this script starts, freezes with SIGSTOP and kills; the shared Redis
is never touched. Before the circuit breaker, every read under a hang waited for the Redis
socket timeout; with it, only the reads that open it (and one probe per cool-down) do.
"""

import asyncio
import os
import time
from pathlib import Path

import httpx

from conduit.seed import Sizes, seed
from roadmap_shared.bench import Result, measure, print_section, running_server
from roadmap_shared.testing.databases import migrated_database
from roadmap_shared.testing.private_servers import PrivateRedis

STAGE = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CONCURRENCY = 8
REQUESTS = 800
# Fewer under the hang: without the breaker each one waits for the socket timeout.
REQUESTS_UNDER_HANG = 200
# Sent first under the hang and reported apart: they open the breaker.
OPENING_REQUESTS = 2 * CONCURRENCY


async def tags(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/api/tags")


async def run(base_url: str, redis: PrivateRedis) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:

        async def bench(name: str, total: int = REQUESTS) -> Result:
            return await measure(client, name, tags, total=total, concurrency=CONCURRENCY)

        await bench("warm-up", 50)
        cached = await bench("GET /api/tags, Redis up (cached)")
        # The hang first, while the breaker is closed; killing Redis would open it.
        with redis.paused():
            opening = await bench("GET /api/tags, hang: first requests", OPENING_REQUESTS)
            hung = await bench("GET /api/tags, Redis hung", REQUESTS_UNDER_HANG)
        with redis.stopped():
            no_cache = await bench("GET /api/tags, Redis killed (no cache)")
    print_section(
        f"stage3-blog: a cached read while Redis hangs, {CONCURRENCY} concurrent clients",
        [cached, opening, hung],
        no_cache,
    )


def main() -> None:
    started = time.perf_counter()
    ini = STAGE / "alembic.ini"
    with migrated_database(POSTGRES, "bench_conduit_hang", ini) as database_url:
        asyncio.run(seed(database_url, Sizes(users=50, articles=500)))
        with PrivateRedis() as redis:
            env = {
                "BLOG_DATABASE_URL": database_url,
                "BLOG_REDIS_URL": redis.url,
                "BLOG_LOG_LEVEL": "ERROR",
            }
            with running_server("conduit.main:create_app", env) as base_url:
                asyncio.run(run(base_url, redis))
    print(f"(took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

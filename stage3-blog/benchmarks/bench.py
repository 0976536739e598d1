"""`make bench`: the stage-3 blog section. Seeds a throw-away database (200 users, 5,000
articles), serves it with uvicorn (one process), and measures every read endpoint (the
article list anonymous and signed in, the feed, one article, its comments, a profile, the
tags) twice: with the caches off, so every read goes to PostgreSQL, then on. Each endpoint
is a ratio to `/healthz` of the same server in the same run, with the server's CPU
milliseconds per request.

Uses the services the tests use (TEST_POSTGRES_URL, TEST_REDIS_URL); takes a few minutes
and drops its database at the end.
"""

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from redis import Redis

from conduit.seed import DEMO_PASSWORD, seed
from roadmap_shared.bench import Result, Server, measure, print_section, served
from roadmap_shared.testing.databases import migrated_database

STAGE = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# This stage's own logical database, as in its test suite, unless BENCH_REDIS_URL names
# another (with its database number); emptied before the run.
REDIS = os.environ.get("BENCH_REDIS_URL") or (
    os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/") + "/4"
)
CONCURRENCY = 10
READER = "jake@conduit.example"


Get = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def get(url: str, headers: dict[str, str] | None = None) -> Get:
    return lambda client: client.get(url, headers=headers)


async def run(server: Server, label: str) -> tuple[Result, list[Result]]:
    """The baseline and every read endpoint, on one server; `label` says cached or not."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        login = await client.post(
            "/api/users/login", json={"user": {"email": READER, "password": DEMO_PASSWORD}}
        )
        login.raise_for_status()
        signed_in = {"Authorization": f"Token {login.json()['user']['token']}"}
        first = (await client.get("/api/articles", params={"limit": 1})).json()["articles"][0]
        slug, author = first["slug"], first["author"]["username"]

        async def bench(name: str, request: Get, total: int) -> Result:
            await measure(client, name, request, total=50, concurrency=CONCURRENCY)  # warm up
            return await measure(
                client,
                f"{name} ({label})",
                request,
                total=total,
                concurrency=CONCURRENCY,
                cpu=server.cpu_seconds,
            )

        baseline = await bench("GET /healthz", get("/healthz"), 1500)
        results = [
            await bench("GET /api/articles", get("/api/articles"), 500),
            await bench("GET /api/articles signed in", get("/api/articles", signed_in), 250),
            await bench("GET /api/articles/feed", get("/api/articles/feed", signed_in), 250),
            await bench("GET /api/articles/{slug}", get(f"/api/articles/{slug}"), 500),
            await bench(
                "GET /api/articles/{slug}/comments", get(f"/api/articles/{slug}/comments"), 500
            ),
            await bench("GET /api/profiles/{username}", get(f"/api/profiles/{author}"), 500),
            await bench("GET /api/tags", get("/api/tags"), 500),
        ]
    return baseline, results


def main() -> None:
    started = time.perf_counter()
    with migrated_database(POSTGRES, "bench_conduit", STAGE / "alembic.ini") as database_url:
        asyncio.run(seed(database_url))
        Redis.from_url(REDIS).flushdb()
        env = {
            "BLOG_DATABASE_URL": database_url,
            "BLOG_REDIS_URL": REDIS,
            "BLOG_LOG_LEVEL": "WARNING",
        }
        # The caches off (every read goes to PostgreSQL), then on (as deployed).
        uncached_env = {
            **env,
            "BLOG_ARTICLE_LIST_CACHE_SECONDS": "0",
            "BLOG_TAGS_CACHE_SECONDS": "0",
        }
        with served("conduit.main:create_app", uncached_env) as server:
            uncached = asyncio.run(run(server, "no cache"))
        with served("conduit.main:create_app", env) as server:
            cached = asyncio.run(run(server, "cache"))
    for (baseline, results), how in ((uncached, "caches off"), (cached, "caches on")):
        title = f"stage3-blog: 5,000 articles, {CONCURRENCY} concurrent clients, {how}"
        print_section(title, results, baseline)
    print(f"(seeding, serving and measuring took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

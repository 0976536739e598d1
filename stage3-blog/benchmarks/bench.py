"""`make bench`: the stage-3 blog section. Seeds a throw-away database (200 users, 5,000
articles), serves it with uvicorn, and measures the article list (anonymous, so from the
cache, and signed in, so from PostgreSQL), the feed, one article and the tags, each as a
ratio to `/healthz` of the same server in the same run.

Uses the services the tests use (TEST_POSTGRES_URL, TEST_REDIS_URL); finishes in well
under 90 seconds and drops its database at the end.
"""

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from redis import Redis

from conduit.seed import DEMO_PASSWORD, seed
from roadmap_shared.bench import Result, measure, print_section, running_server
from roadmap_shared.testing.databases import migrated_database

STAGE = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# This stage's own logical database, as in its test suite; emptied before the run.
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/") + "/4"
CONCURRENCY = 10
READER = "jake@conduit.example"


async def run(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        login = await client.post(
            "/api/users/login", json={"user": {"email": READER, "password": DEMO_PASSWORD}}
        )
        login.raise_for_status()
        signed_in = {"Authorization": f"Token {login.json()['user']['token']}"}
        slug = (await client.get("/api/articles", params={"limit": 1})).json()["articles"][0][
            "slug"
        ]

        def get(
            url: str, headers: dict[str, str] | None = None
        ) -> Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]:
            return lambda c: c.get(url, headers=headers)

        async def bench(
            name: str, request: Callable[..., Awaitable[httpx.Response]], total: int
        ) -> Result:
            await measure(client, name, request, total=50, concurrency=CONCURRENCY)  # warm up
            return await measure(client, name, request, total=total, concurrency=CONCURRENCY)

        baseline = await bench("GET /healthz (baseline)", get("/healthz"), 1500)
        results = [
            await bench("GET /api/articles (anonymous)", get("/api/articles"), 1000),
            await bench(
                "GET /api/articles (signed in)", get("/api/articles", headers=signed_in), 250
            ),
            await bench(
                "GET /api/articles/feed", get("/api/articles/feed", headers=signed_in), 250
            ),
            await bench("GET /api/articles/{slug}", get(f"/api/articles/{slug}"), 500),
            await bench("GET /api/tags", get("/api/tags"), 1000),
        ]
    print_section(
        f"stage3-blog: 5,000 articles, {CONCURRENCY} concurrent clients", results, baseline
    )


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
        with running_server("conduit.main:create_app", env) as base_url:
            asyncio.run(run(base_url))
    print(f"(seeding, serving and measuring took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

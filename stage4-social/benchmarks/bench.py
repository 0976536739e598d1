"""Stage 4 social benchmark: the two sides of the fan-out trade-off, measured in one run.

1. Reading a home timeline page (20 posts), the service's own code in this process: from
   the reader's Redis timeline (fanned out on write) merged with the large accounts' posts,
   against the same page assembled from PostgreSQL alone (what every read would cost
   without fan-out, and what a read costs while Redis is down). Both then read the page's
   posts, authors and the reader's likes in the same one statement. The reader follows
   `FOLLOWED` authors of `POSTS_PER_AUTHOR` posts each, two of them large accounts, in a
   database of `OTHER_POSTS` more posts by people the reader does not follow.
2. Fan-out on write: the consumer's handler for `post.created` (the follower list read
   from PostgreSQL, one Lua script per timeline, pipelined) for an author with
   `FOLLOWERS` followers whose timelines all exist. Reported as timeline deliveries per
   second: the number a fan-out worker's capacity is planned with.

Needs PostgreSQL and Redis, found like the tests find them (`TEST_POSTGRES_URL`,
`TEST_REDIS_URL`); uses a throw-away database and the `social:*` keys of a Redis logical
database no suite uses (`BENCH_REDIS_DB`, 15 by default), deleted before and after. Run
from the stage folder: `uv run --no-sync python benchmarks/bench.py` (`make bench`).
"""

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy import insert

from roadmap_shared.database import Database
from roadmap_shared.messaging import Event
from roadmap_shared.testing.databases import migrated_database
from roadmap_shared.testing.factories import settings_for_tests
from social.config import Settings
from social.models import Follow, Post, User
from social.paging import CursorQuery
from social.timelines import service
from social.timelines.fanout import FanOut
from social.timelines.store import PREFIX, TimelineStore

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = (
    os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
    + f"/{os.environ.get('BENCH_REDIS_DB', '15')}"
)
ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"

FOLLOWED = 200
POSTS_PER_AUTHOR = 25
OTHER_POSTS = 50_000
FOLLOWERS = 5_000
PAGE = 20
READS = 300
FAN_OUTS = 20


async def seed(database: Database, reader_id_holder: list[int]) -> None:
    async with database.sessionmaker.begin() as session:
        users = [
            {
                "username": f"u{n}",
                "email": f"u{n}@example.com",
                "display_name": f"User {n}",
                "password_hash": "unused",
            }
            for n in range(FOLLOWED + FOLLOWERS + 2)
        ]
        ids = list(await session.scalars(insert(User).returning(User.id), users))
        reader, famous, authors = ids[0], ids[1], ids[2 : 2 + FOLLOWED]
        fans = ids[2 + FOLLOWED :]
        await session.execute(
            insert(Follow),
            [{"follower_id": reader, "followee_id": author} for author in authors]
            + [{"follower_id": fan, "followee_id": famous} for fan in fans],
        )
        large = set(authors[:2])
        posts = [
            {"author_id": author, "body": f"post {n}", "fan_out_on_read": author in large}
            for n in range(POSTS_PER_AUTHOR)
            for author in authors
        ]
        # People the reader does not follow, writing meanwhile.
        posts += [
            {"author_id": fans[n % len(fans)], "body": "elsewhere", "fan_out_on_read": False}
            for n in range(OTHER_POSTS)
        ]
        await session.execute(insert(Post), posts)
        reader_id_holder[:] = [reader, famous, *fans]


async def timed(calls: int, call: Callable[[], Awaitable[object]]) -> list[float]:
    latencies = []
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def bench(database_url: str) -> None:
    settings = settings_for_tests(Settings, database_url=database_url, redis_url=REDIS_URL)
    database = Database.from_settings(settings)
    redis = Redis.from_url(REDIS_URL)
    store = TimelineStore(redis, length=settings.timeline_length, ttl_seconds=3600)
    await clear(redis)
    try:
        holder: list[int] = []
        await seed(database, holder)
        reader_id, famous_id, *fan_ids = holder
        query = CursorQuery(limit=PAGE)
        async with database.sessionmaker() as session:
            reader = await session.get(User, reader_id)
            if reader is None:
                raise RuntimeError("the seeded reader is missing")
            await service.rebuild(session, store, reader_id)
            from_redis = await service.home(session, store, reader, query)
            from_postgres = await service.from_database(session, reader, query)
            if from_redis != from_postgres:
                raise RuntimeError("the two paths must show the same page")
            for _ in range(20):  # warm both paths (pool, statement cache)
                await service.home(session, store, reader, query)
                await service.from_database(session, reader, query)
            redis_ms = await timed(READS, lambda: service.home(session, store, reader, query))
            postgres_ms = await timed(READS, lambda: service.from_database(session, reader, query))
        print(f"\n## Home timeline page of {PAGE}, reader following {FOLLOWED} authors")
        print(f"{'path':<34}{'p50 ms':>8}{'p99 ms':>8}{'reads/s':>9}")
        for name, latencies in [
            ("Redis timeline + merge", redis_ms),
            ("PostgreSQL alone", postgres_ms),
        ]:
            print(
                f"{name:<34}{statistics.median(latencies):>8.2f}"
                f"{sorted(latencies)[int(len(latencies) * 0.99)]:>8.2f}"
                f"{1000 / statistics.mean(latencies):>9.0f}"
            )
        ratio = statistics.median(postgres_ms) / statistics.median(redis_ms)
        print(f"PostgreSQL alone / Redis timeline (median): {ratio:.2f}x")

        for fan_id in fan_ids:
            await store.finish_rebuild(fan_id, [])
        async with database.sessionmaker.begin() as session:
            famous_posts = list(
                await session.scalars(
                    insert(Post).returning(Post.id),
                    [{"author_id": famous_id, "body": f"news {n}"} for n in range(FAN_OUTS)],
                )
            )
        handler = FanOut(store)
        started = time.perf_counter()
        for post_id in famous_posts:
            async with database.sessionmaker.begin() as session:
                await handler.on_post_created(
                    session, Event(uuid.uuid4(), "post.created", {"post_id": post_id}, 1, None)
                )
        seconds = time.perf_counter() - started
        deliveries = FAN_OUTS * (len(fan_ids) + 1)
        print(f"\n## Fan-out on write: {FAN_OUTS} posts to {len(fan_ids)} followers each")
        print(f"timeline deliveries per second: {deliveries / seconds:,.0f}")
        print(f"one post to {len(fan_ids)} followers: {seconds / FAN_OUTS * 1000:.1f} ms")
    finally:
        await clear(redis)
        await redis.aclose()
        await database.dispose()


async def clear(redis: Redis) -> None:
    keys = [key async for key in redis.scan_iter(match=f"{PREFIX}:*", count=1000)]
    for start in range(0, len(keys), 1000):
        await redis.delete(*keys[start : start + 1000])


def main() -> None:
    with migrated_database(POSTGRES_URL, "bench_social", ALEMBIC_INI) as database_url:
        asyncio.run(bench(database_url))


if __name__ == "__main__":
    main()

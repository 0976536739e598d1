"""`python -m conduit.seed`: fill the database with a realistic, repeatable data set for
demos and benchmarks: 200 users, 5,000 articles, tags, follows, favorites and comments.

Repeatable: everything comes from one seeded random generator and a fixed "now", so two
runs make the same rows. Fast: ids are assigned here, so related rows can be built
without asking the database for ids, and each table is written with a few multi-row
INSERTs (SQLAlchemy batches an executemany into INSERT ... VALUES (...), (...), ...).

Run it on an empty database (after `make migrate`); `--reset` empties the tables first.
"""

import argparse
import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from conduit.articles.slugs import slugify
from conduit.config import get_settings
from conduit.models import Base, Role, User
from roadmap_shared.security.passwords import hash_password
from roadmap_shared.settings import Environment

SEED = 20261121
NOW = datetime(2026, 11, 1, tzinfo=UTC)
DEMO_PASSWORD = "conduit-demo"  # noqa: S105 (printed for people trying the demo)

FIRST_NAMES = [
    "ada", "alan", "barbara", "brian", "claude", "dennis", "edsger", "frances", "grace",
    "guido", "hedy", "ken", "linus", "margaret", "niklaus", "radia", "rob", "sophie", "tim",
    "yukihiro",
]  # fmt: skip
LAST_NAMES = [
    "hopper", "lovelace", "turing", "liskov", "ritchie", "thompson", "dijkstra", "allen",
    "wirth", "perlman", "pike", "wilson", "berners", "hamilton", "torvalds", "matsumoto",
]  # fmt: skip
TAGS = [
    "python", "postgres", "redis", "fastapi", "sqlalchemy", "testing", "security", "caching",
    "performance", "databases", "api-design", "http", "async", "docker", "linux", "git",
    "architecture", "devops", "observability", "career", "open-source", "rust", "go",
    "javascript", "typescript", "react", "css", "design", "productivity", "writing",
    "algorithms", "networking", "cloud", "kubernetes", "ml", "data", "ethics", "books",
    "tutorial", "opinion",
]  # fmt: skip
VOCABULARY = """
the a an of to and in for with on by from about into over under between through
database query index cache server client request response latency throughput error
migration schema table column row transaction lock deadlock replica backup restore
python function class module package test fixture mock benchmark profile memory
thread process event loop coroutine queue worker job retry timeout deadline budget
team review design decision tradeoff simple clear fast slow safe secure broken fixed
learn build ship measure debug deploy refactor document explain understand improve
today yesterday always never often sometimes carefully quickly finally really
"""
WORDS = VOCABULARY.split()
TITLE_OPENINGS = [
    "How to", "Why you should", "Lessons from", "A guide to", "Notes on", "Stop trying to",
    "What I learned when I tried to", "Ten ways to", "The case against", "Rethinking",
]  # fmt: skip
TITLE_TOPICS = [
    "cache your database queries", "test async code", "design a public API", "index a table",
    "read a query plan", "rate limit logins", "review pull requests", "name things",
    "measure latency", "deploy on Fridays", "write migrations", "handle errors",
    "structure a Python project", "scale a feed", "profile memory", "learn Rust",
]  # fmt: skip


@dataclass(frozen=True)
class Sizes:
    users: int = 200
    articles: int = 5_000
    follows_per_user: int = 20  # on average
    favorites_per_article: int = 5  # on average
    comments_per_article: int = 3  # on average


@dataclass
class Dataset:
    """Rows for each table, as dictionaries of column values, in insertion order."""

    users: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)
    articles: list[dict[str, Any]] = field(default_factory=list)
    article_tags: list[dict[str, Any]] = field(default_factory=list)
    follows: list[dict[str, Any]] = field(default_factory=list)
    favorites: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)


def build(sizes: Sizes, password_hash: str, seed: int = SEED) -> Dataset:
    """The whole data set, made in memory from `seed` alone."""
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    data = Dataset()
    _users(data, rng, sizes, password_hash)
    user_ids = [user["id"] for user in data.users]
    # A few prolific authors and many occasional ones, as on real blogs.
    author_weights = [1 / rank for rank in range(1, len(user_ids) + 1)]
    data.tags = [{"id": n, "name": name} for n, name in enumerate(TAGS, start=1)]
    tag_weights = [1 / rank for rank in range(1, len(TAGS) + 1)]
    for article_id in range(1, sizes.articles + 1):
        created = NOW - timedelta(seconds=rng.randrange(365 * 24 * 3600))
        title = f"{rng.choice(TITLE_OPENINGS)} {rng.choice(TITLE_TOPICS)}"
        data.articles.append(
            {
                "id": article_id,
                # Titles repeat, so the id makes the slug unique (the API adds a random
                # suffix instead, since it does not know the id before inserting).
                "slug": f"{slugify(title)}-{article_id}",
                "title": title,
                "description": _sentence(rng, 8, 16),
                "body": "\n\n".join(_sentence(rng, 30, 80) for _ in range(rng.randint(2, 5))),
                "author_id": rng.choices(user_ids, author_weights)[0],
                "created_at": created,
                "updated_at": created,
            }
        )
        tag_ids = {
            rng.choices(range(1, len(TAGS) + 1), tag_weights)[0] for _ in range(rng.randint(0, 4))
        }
        data.article_tags += [{"article_id": article_id, "tag_id": t} for t in sorted(tag_ids)]
        fans = rng.sample(
            user_ids, min(len(user_ids), rng.randint(0, 2 * sizes.favorites_per_article))
        )
        data.favorites += [{"user_id": fan, "article_id": article_id} for fan in sorted(fans)]
        for _ in range(rng.randint(0, 2 * sizes.comments_per_article)):
            commented = created + timedelta(minutes=rng.randint(1, 60 * 24 * 30))
            data.comments.append(
                {
                    "id": len(data.comments) + 1,
                    "article_id": article_id,
                    "author_id": rng.choice(user_ids),
                    "body": _sentence(rng, 5, 40),
                    "created_at": commented,
                    "updated_at": commented,
                }
            )
    for follower in user_ids:
        others = [user for user in user_ids if user != follower]
        count = min(len(others), rng.randint(0, 2 * sizes.follows_per_user))
        followed = rng.choices(others, author_weights[: len(others)], k=count)
        data.follows += [{"follower_id": follower, "followee_id": f} for f in sorted(set(followed))]
    return data


def _users(data: Dataset, rng: random.Random, sizes: Sizes, password_hash: str) -> None:
    # Three well-known accounts to sign in with; the rest are readers and writers.
    named = [("admin", Role.ADMIN), ("moderator", Role.MODERATOR), ("jake", Role.USER)]
    for user_id in range(1, sizes.users + 1):
        if user_id <= len(named):
            username, role = named[user_id - 1]
        else:
            username = f"{rng.choice(FIRST_NAMES)}.{rng.choice(LAST_NAMES)}{user_id}"
            role = Role.USER
        joined = NOW - timedelta(days=400 + rng.randrange(400))
        data.users.append(
            {
                "id": user_id,
                "username": username,
                "email": f"{username}@conduit.example",
                "password_hash": password_hash,
                "bio": _sentence(rng, 4, 12) if rng.random() < 0.7 else None,
                "image": None,
                "role": role,
                "created_at": joined,
                "updated_at": joined,
            }
        )


def _sentence(rng: random.Random, shortest: int, longest: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(shortest, longest))
    return " ".join(words).capitalize() + "."


class AlreadySeeded(RuntimeError):
    pass


# Parents before children, so foreign keys are satisfied as rows arrive. The names are
# both the tables and the fields of `Dataset`.
TABLES = ("users", "tags", "articles", "article_tags", "follows", "favorites", "comments")
# Tables whose ids we assigned: their sequences must continue after the highest one.
SEQUENCED = ("users", "tags", "articles", "comments")


def _continue_sequence_after_max_id(table: Table) -> Any:
    highest = select(func.max(table.c.id)).scalar_subquery()
    return func.setval(func.pg_get_serial_sequence(table.name, "id"), highest)


def _quiet(_: str) -> None:
    pass


async def seed(
    database_url: str,
    sizes: Sizes = Sizes(),
    *,
    reset: bool = False,
    progress: Callable[[str], None] = _quiet,
) -> Dataset:
    """Inserts the dataset; `progress` hears one line per table as it goes."""
    data = build(sizes, await hash_password(DEMO_PASSWORD))
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await _make_room(connection, reset=reset)
            for name in TABLES:
                rows = getattr(data, name)
                await _insert(connection, Base.metadata.tables[name], rows)
                progress(f"  {name}: {len(rows):,}")
            for name in SEQUENCED:
                table = Base.metadata.tables[name]
                await connection.execute(select(_continue_sequence_after_max_id(table)))
    finally:
        await engine.dispose()
    return data


async def _make_room(connection: AsyncConnection, *, reset: bool) -> None:
    if reset:
        await connection.execute(text("TRUNCATE users, tags RESTART IDENTITY CASCADE"))
    elif await connection.scalar(select(func.count()).select_from(User)):
        raise AlreadySeeded("The database already has users; run with --reset to replace them.")


async def _insert(
    connection: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    batch = 2_000
    for start in range(0, len(rows), batch):
        await connection.execute(insert(table), list(rows[start : start + batch]))


def _print_now(line: str) -> None:
    print(line, flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reset", action="store_true", help="empty the tables first")
    arguments = parser.parse_args(argv)
    settings = get_settings()
    if settings.environment is Environment.PRODUCTION:
        raise SystemExit("Refusing to seed a production database.")
    started = time.perf_counter()
    try:
        data = asyncio.run(seed(settings.database_url, reset=arguments.reset, progress=_print_now))
    except AlreadySeeded as exc:
        raise SystemExit(str(exc)) from exc
    counts = ", ".join(f"{len(getattr(data, name)):,} {name}" for name in TABLES)
    print(f"Seeded {counts} in {time.perf_counter() - started:.1f} s.")
    print(f"Sign in as admin, moderator or jake @conduit.example, password {DEMO_PASSWORD!r}.")


if __name__ == "__main__":
    main()

"""Stage 2 (e-commerce) benchmarks: `make bench` runs this. Needs PostgreSQL and Redis.

On a throw-away database with the demo catalogue (300 products), against a real uvicorn:
1. Product list and product detail with the cache off (every request reads PostgreSQL),
   then with it on: the ratio is what cache-aside buys.
2. Checkout throughput when every buyer wants the same variant (all transactions queue
   on one row lock), against buyers of different variants (no contention).
Numbers are relative to `/healthz` measured in the same run; see roadmap_shared.bench.
"""

import asyncio
import itertools
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import insert, select

from roadmap_shared.bench import Request, Result, Server, measure, print_section, served
from roadmap_shared.database import Database
from roadmap_shared.settings import Environment
from roadmap_shared.testing.databases import migrated_database
from shop.accounts.tokens import issue_access_token
from shop.config import Settings
from shop.models import CartItem, Product, User, Variant
from shop.seed import run as run_seed

STAGE = Path(__file__).resolve().parents[1]
APP = "shop.main:create_app"
CHECKOUT = {
    "shipping_address": {
        "name": "Bench Buyer",
        "line1": "1 Loopback Lane",
        "city": "Localhost",
        "postal_code": "12700",
        "country": "DE",
    }
}
# As many clients as the server's pool keeps connections (`Database`'s `pool_size`, 10).
# With more, the pool opens overflow connections for the excess and closes each one it
# gets back while 10 are idle, so connections churn as the load swings, and the run would
# measure connecting to PostgreSQL more than the code.
CONCURRENCY = 10
BUYERS = 200


async def product_ids(settings: Settings) -> list[int]:
    database = Database(settings.database_url)
    async with database.sessionmaker() as session:
        ids = (await session.scalars(select(Product.id).order_by(Product.id).limit(50))).all()
    await database.dispose()
    return list(ids)


async def prepare_buyers(settings: Settings) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Two groups of buyers with one item in their carts: one group all wanting the same
    variant (stock for everyone), the other each wanting a different one."""
    database = Database(settings.database_url)
    async with database.sessionmaker() as session, session.begin():
        category_id = await session.scalar(select(Product.category_id).limit(1))
        product_id = await session.scalar(
            insert(Product)
            .values(category_id=category_id, name="Bench product", description="")
            .returning(Product.id)
        )
        variant_ids = (
            await session.scalars(
                insert(Variant).returning(Variant.id),
                [
                    {
                        "product_id": product_id,
                        "sku": f"BENCH-{n}",
                        "name": f"Bench {n}",
                        "price_amount": 1000,
                        "currency": settings.currency,
                        "stock": BUYERS,
                    }
                    for n in range(BUYERS + 1)
                ],
            )
        ).all()
        hot, spread = variant_ids[0], variant_ids[1:]
        # Buyers never log in (their tokens are minted below), so no real password hash.
        users = (
            await session.scalars(
                insert(User).returning(User),
                [
                    {
                        "email": f"buyer{n}@bench.example",
                        "name": f"Buyer {n}",
                        "password_hash": "!unusable",
                    }
                    for n in range(2 * BUYERS)
                ],
            )
        ).all()
        carts = [{"user_id": u.id, "variant_id": hot, "quantity": 1} for u in users[:BUYERS]]
        carts += [
            {"user_id": u.id, "variant_id": v, "quantity": 1}
            for u, v in zip(users[BUYERS:], spread, strict=True)
        ]
        await session.execute(insert(CartItem), carts)
    await database.dispose()
    codec = settings.token_codec()

    def headers(user: User) -> dict[str, str]:
        token = issue_access_token(codec, user, settings.access_token_lifetime).token
        return {"Authorization": f"Bearer {token}"}

    return [headers(u) for u in users[:BUYERS]], [headers(u) for u in users[BUYERS:]]


async def catalogue(server: Server, ids: list[int], label: str) -> list[Result]:
    lists = itertools.cycle([*(f"/products?page={n}" for n in range(1, 6)), "/products?q=wool"])
    details = itertools.cycle([f"/products/{product_id}" for product_id in ids])
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        # Warm up: connections, and (when caching) every key the runs will read.
        for path in [*itertools.islice(lists, 6), *itertools.islice(details, len(ids))]:
            await client.get(path)
        return [
            await measure(
                client,
                f"GET /products ({label})",
                lambda c: c.get(next(lists)),
                total=300,
                concurrency=CONCURRENCY,
                cpu=server.cpu_seconds,
            ),
            await measure(
                client,
                f"GET /products/{{id}} ({label})",
                lambda c: c.get(next(details)),
                total=600,
                concurrency=CONCURRENCY,
                cpu=server.cpu_seconds,
            ),
        ]


async def baseline(server: Server) -> Result:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        return await measure(
            client,
            "GET /healthz",
            lambda c: c.get("/healthz"),
            total=1000,
            concurrency=CONCURRENCY,
            cpu=server.cpu_seconds,
        )


def checkout_as(buyers: Iterator[dict[str, str]]) -> Request:
    """A request that checks out as the next buyer: each buyer has one cart to check out."""

    async def request(client: httpx.AsyncClient) -> httpx.Response:
        return await client.post("/orders", json=CHECKOUT, headers=next(buyers))

    return request


async def checkouts(
    server: Server, hot_buyers: list[dict[str, str]], spread_buyers: list[dict[str, str]]
) -> list[Result]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        return [
            await measure(
                client,
                "POST /orders (one hot variant)",
                checkout_as(iter(hot_buyers)),
                total=BUYERS,
                concurrency=CONCURRENCY,
                cpu=server.cpu_seconds,
            ),
            await measure(
                client,
                "POST /orders (different variants)",
                checkout_as(iter(spread_buyers)),
                total=BUYERS,
                concurrency=CONCURRENCY,
                cpu=server.cpu_seconds,
            ),
        ]


def main() -> None:
    postgres = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    redis = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
    with (
        migrated_database(postgres, "bench_shop", STAGE / "alembic.ini") as database_url,
        tempfile.TemporaryDirectory(prefix="bench-shop-media-") as media,
    ):
        env = {
            "SHOP_ENVIRONMENT": Environment.DEVELOPMENT.value,
            "SHOP_DATABASE_URL": database_url,
            "SHOP_REDIS_URL": os.environ.get("BENCH_REDIS_URL", f"{redis}/3"),
            # A namespace of its own: no key from an earlier run (or the tests) is ever read.
            "SHOP_CACHE_NAMESPACE": f"bench-{uuid.uuid4().hex[:8]}",
            "SHOP_MEDIA_DIR": media,
            "SHOP_LOG_LEVEL": "WARNING",
        }
        settings = Settings(_env_file=None, database_url=database_url)
        asyncio.run(run_seed(settings, products=300))
        ids = asyncio.run(product_ids(settings))
        hot_buyers, spread_buyers = asyncio.run(prepare_buyers(settings))

        with served(APP, {**env, "SHOP_CACHE_TTL_SECONDS": "0"}) as server:
            cold_base = asyncio.run(baseline(server))
            cold = asyncio.run(catalogue(server, ids, "cold"))
        with served(APP, env) as server:
            base = asyncio.run(baseline(server))
            cached = asyncio.run(catalogue(server, ids, "cached"))
            bought = asyncio.run(checkouts(server, hot_buyers, spread_buyers))

    print_section(
        "stage-2-ecommerce: catalogue, cache off (every read hits PostgreSQL)", cold, cold_base
    )
    print_section("stage-2-ecommerce: catalogue, cache on (Redis, cache-aside)", cached, base)
    print("\ncached / cold throughput:")
    for before, after in zip(cold, cached, strict=True):
        print(f"  {before.name.split(' (')[0]:<22} {after.rps / before.rps:>6.1f}x")
    print_section("stage-2-ecommerce: checkout (each buys 1 unit; stock for all)", bought, base)
    if any(result.errors for result in [*cold, *cached, *bought]):
        sys.exit("some requests failed; the numbers above are not trustworthy")


if __name__ == "__main__":
    main()

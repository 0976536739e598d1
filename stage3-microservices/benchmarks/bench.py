"""`make bench`: what the split costs, measured. Needs PostgreSQL, Redis and nginx.

In one run, on throw-away databases:
1. Checkout in the monolith: stage 2's shop (`stage2-ecommerce`, started as its own uvicorn
   process; stages never import each other) against checkout in the services: nginx ->
   orders -> catalog (reserve, confirm). The ratio is the cost of the split per checkout,
   in throughput, latency and CPU (the CPU of every process on the path, summed).
2. Each hop alone: the gateway (a trivial endpoint of orders through nginx and direct), and
   orders -> catalog (a reservation and its confirmation, called directly as orders does).

Buyers and stock are made over HTTP the same way for both shops (register, log in, fill a
cart; an admin creates the stock), so the two checkouts do the same work. Throughput is
for one process of each kind on a shared machine: read the ratios, not the absolutes.
"""

import asyncio
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from roadmap_shared.bench import (
    Request,
    Result,
    Server,
    measure,
    print_section,
    process_cpu_seconds,
    served,
)
from roadmap_shared.security.public_keys import TokenSigner, generate_private_key_pem
from roadmap_shared.settings import Environment
from roadmap_shared.testing.databases import (
    create_database,
    drop_database,
    migrated_database,
)
from roadmap_shared.testing.private_servers import free_port
from roadmap_shared.testing.tools import find_program

STAGE = Path(__file__).resolve().parents[1]
# The processes of the end-to-end tests (tests/e2e/processes.py): the same services, the
# same gateway config, started the same way.
sys.path.insert(0, str(STAGE))

from tests.e2e.processes import GATEWAY_CONFIG, Service, gateway  # noqa: E402

MONOLITH = STAGE.parent / "stage2-ecommerce"
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# The stage's own logical database, as in its test suite, unless BENCH_REDIS_URL names one.
REDIS = os.environ.get("BENCH_REDIS_URL") or (
    os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/") + "/7"
)
CONCURRENCY = 10
BUYERS = 150
HOP_REQUESTS = 300
ROUNDS = 6
PASSWORD = "bench password 1234"  # noqa: S105 (throw-away accounts)
KID = "bench"
SERVICE = "service"
CHECKOUT = {
    "shipping_address": {
        "name": "Bench Buyer",
        "line1": "1 Loopback Lane",
        "city": "Localhost",
        "postal_code": "12700",
        "country": "DE",
    }
}


def without_rate_limit(config: str) -> str:
    """The gateway's config with a rate limit no benchmark reaches: every request here comes
    from one address, which the real limit (20 a second) would answer with 429."""
    config, found = re.subn(r"rate=\d+r/s", "rate=100000r/s", config)
    if found != 1:
        raise RuntimeError("nginx.conf no longer has the expected rate limit")
    return config


def summed_cpu(pids: list[int]) -> Callable[[], float | None]:
    """The CPU clock of a path through several processes: their CPU seconds summed."""

    def clock() -> float | None:
        seconds = [process_cpu_seconds(pid) for pid in pids]
        return None if None in seconds else sum(s for s in seconds if s is not None)

    return clock


def expect(response: httpx.Response, status: int) -> None:
    """Setting up goes through the API: an answer other than `status` stops the run."""
    if response.status_code != status:
        raise RuntimeError(f"{response.request.url.path}: {response.status_code} {response.text}")


async def promote_to_admin(database_url: str, email: str) -> None:
    """Both shops keep users' roles in `users.role`; there is no API to become an admin."""
    engine = create_async_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET role = 'admin' WHERE email = :email"), {"email": email}
        )
    await engine.dispose()


async def signed_in(http: httpx.AsyncClient, email: str) -> dict[str, str]:
    registered = await http.post(
        "/auth/register", json={"email": email, "name": "Bench", "password": PASSWORD}
    )
    expect(registered, 201)
    login = await http.post("/auth/login", json={"email": email, "password": PASSWORD})
    expect(login, 200)
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def stock(url: str, database_url: str, *, variants: int) -> list[int]:
    """`variants` variants with stock for everyone, made by an admin over the API."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        email = f"admin-{uuid.uuid4().hex[:8]}@bench.example"
        await signed_in(http, email)
        await promote_to_admin(database_url, email)
        login = await http.post("/auth/login", json={"email": email, "password": PASSWORD})
        admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
        category = await http.post(
            "/admin/categories", json={"name": "Bench", "slug": "bench"}, headers=admin
        )
        expect(category, 201)
        ids: list[int] = []
        # A product holds at most 50 variants.
        for first in range(0, variants, 50):
            product = await http.post(
                "/admin/products",
                headers=admin,
                json={
                    "category_id": category.json()["id"],
                    "name": f"Bench product {first}",
                    "variants": [
                        {
                            "sku": f"BENCH-{n}",
                            "name": f"Bench {n}",
                            "price_amount": 1000,
                            "stock": 1000,
                        }
                        for n in range(first, min(first + 50, variants))
                    ],
                },
            )
            expect(product, 201)
            ids += [variant["id"] for variant in product.json()["variants"]]
        return ids


async def buyers(url: str, variant_ids: list[int]) -> list[dict[str, str]]:
    """One signed-in buyer per variant, each with that variant in the cart: the checkouts
    do not queue on one row's lock, so they measure the path, not contention."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        tag = uuid.uuid4().hex[:8]
        semaphore = asyncio.Semaphore(CONCURRENCY)

        async def buyer(n: int, variant_id: int) -> dict[str, str]:
            async with semaphore:
                headers = await signed_in(http, f"buyer{n}-{tag}@bench.example")
                added = await http.post(
                    "/cart/items", json={"variant_id": variant_id, "quantity": 1}, headers=headers
                )
                expect(added, 200)
                return headers

        return list(await asyncio.gather(*(buyer(n, v) for n, v in enumerate(variant_ids))))


def checkout_as(each: Iterator[dict[str, str]]) -> Request:
    async def request(client: httpx.AsyncClient) -> httpx.Response:
        return await client.post("/orders", json=CHECKOUT, headers=next(each))

    return request


async def run(
    url: str,
    name: str,
    request: Request,
    total: int,
    cpu: Callable[[], float | None],
    *,
    concurrency: int = CONCURRENCY,
) -> Result:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        return await measure(client, name, request, total=total, concurrency=concurrency, cpu=cpu)


def one_at_a_time(url: str, name: str, request: Request, cpu: Callable[[], float | None]) -> Result:
    """A hop's own latency: one request at a time, so no request waits behind another and
    the difference between two paths is the hop, not a queue."""
    return asyncio.run(run(url, name, request, HOP_REQUESTS, cpu, concurrency=1))


def merged(results: list[Result]) -> Result:
    cpu = [result.cpu_seconds for result in results]
    return Result(
        results[0].name,
        sum(result.requests for result in results),
        sum(result.seconds for result in results),
        [latency for result in results for latency in result.latencies_ms],
        sum(result.errors for result in results),
        None if None in cpu else sum(seconds for seconds in cpu if seconds is not None),
    )


def side_by_side(
    paths: dict[str, str], request: Request, cpu: Callable[[], float | None]
) -> dict[str, Result]:
    """The same request on two paths (name -> base URL), taking turns in short rounds: a
    load that comes and goes on a shared machine then weighs on both alike, and their
    difference is the hop, not the moment each was measured."""
    rounds: dict[str, list[Result]] = {name: [] for name in paths}
    for _ in range(ROUNDS):
        for name, url in paths.items():
            rounds[name].append(
                asyncio.run(run(url, name, request, HOP_REQUESTS // ROUNDS, cpu, concurrency=1))
            )
    return {name: merged(results) for name, results in rounds.items()}


def get(path: str) -> Request:
    return lambda client: client.get(path)


def reserve_and_confirm(variant_id: int, service: dict[str, str]) -> Request:
    """What orders asks of the catalog per checkout: a reservation, then its confirmation
    (each under a fresh key, as each order has its own)."""
    keys = (f"bench-{uuid.uuid4().hex}" for _ in itertools.count())

    async def request(client: httpx.AsyncClient) -> httpx.Response:
        key = next(keys)
        lines = {"lines": [{"variant_id": variant_id, "quantity": 1}]}
        held = await client.put(f"/reservations/{key}", json=lines, headers=service)
        if not held.is_success:
            return held
        return await client.post(f"/reservations/{key}/confirm", headers=service)

    return request


def monolith() -> tuple[Result, Result]:
    """Stage 2's checkout: its own database, migrated by its own command, and its app."""
    database_url = create_database(POSTGRES, "bench_ms_monolith")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ms-monolith-") as media:
            env = {
                "SHOP_ENVIRONMENT": Environment.DEVELOPMENT.value,
                "SHOP_DATABASE_URL": database_url,
                "SHOP_REDIS_URL": REDIS,
                "SHOP_CACHE_NAMESPACE": f"bench-{uuid.uuid4().hex[:8]}",
                "SHOP_MEDIA_DIR": media,
                "SHOP_LOG_LEVEL": "WARNING",
                "SHOP_LOGIN_ATTEMPTS_PER_MINUTE": "100000",
            }
            # The monolith's own migration command, as `make migrate` runs it in its folder.
            subprocess.run(
                [sys.executable, "-m", "roadmap_shared.upgrade_database", "shop"],
                cwd=MONOLITH,
                env={**os.environ, **env},
                check=True,
                stdout=subprocess.DEVNULL,
            )
            with served("shop.main:create_app", env) as server:
                variants = asyncio.run(stock(server.url, database_url, variants=BUYERS))
                shoppers = asyncio.run(buyers(server.url, variants))
                base = asyncio.run(
                    run(server.url, "GET /healthz", get("/healthz"), 1000, cpu(server))
                )
                checkout = asyncio.run(
                    run(
                        server.url, "POST /orders", checkout_as(iter(shoppers)), BUYERS, cpu(server)
                    )
                )
        return base, checkout
    finally:
        drop_database(POSTGRES, database_url)


def cpu(server: Server) -> Callable[[], float | None]:
    return server.cpu_seconds


def services(nginx: str) -> dict[str, Result]:
    """The services: one catalog, one orders, the gateway in front."""
    key = generate_private_key_pem()
    signer = TokenSigner(private_keys={KID: key}, active_kid=KID, issuer="orders", audience="shop")
    # The token orders signs for its own calls, to call the catalog directly as orders does.
    token = signer.encode(subject="orders", token_type=SERVICE, lifetime=timedelta(hours=1))
    service = {"Authorization": f"Bearer {token.token}"}
    with (
        migrated_database(
            POSTGRES, "bench_ms_catalog", STAGE / "src/catalog/alembic.ini"
        ) as catalog_db,
        migrated_database(
            POSTGRES, "bench_ms_orders", STAGE / "src/orders/alembic.ini"
        ) as orders_db,
        tempfile.TemporaryDirectory(prefix="bench-ms-") as directory,
    ):
        orders_port = free_port()
        catalog = Service(
            "catalog",
            {
                "CATALOG_ENVIRONMENT": Environment.DEVELOPMENT.value,
                "CATALOG_DATABASE_URL": catalog_db,
                "CATALOG_REDIS_URL": REDIS,
                "CATALOG_CACHE_NAMESPACE": f"bench-{uuid.uuid4().hex[:8]}",
                "CATALOG_MEDIA_DIR": str(Path(directory) / "media"),
                "CATALOG_JWKS_URL": f"http://127.0.0.1:{orders_port}/.well-known/jwks.json",
                "CATALOG_LOG_LEVEL": "WARNING",
            },
        )
        orders = Service(
            "orders",
            {
                "ORDERS_ENVIRONMENT": Environment.DEVELOPMENT.value,
                "ORDERS_DATABASE_URL": orders_db,
                "ORDERS_REDIS_URL": REDIS,
                "ORDERS_JWT_PRIVATE_KEYS": json.dumps({KID: key}),
                "ORDERS_JWT_ACTIVE_KID": KID,
                "ORDERS_CATALOG_URL": f"http://{catalog.address}",
                "ORDERS_LOG_LEVEL": "WARNING",
                "ORDERS_LOGIN_ATTEMPTS_PER_MINUTE": "100000",
            },
            port=orders_port,
        )
        try:
            for process in (orders, catalog):
                process.start()
            with gateway(
                nginx,
                without_rate_limit(GATEWAY_CONFIG.read_text()),
                port=free_port(),
                upstreams={"catalog": [catalog.address], "orders": [orders.address]},
                directory=Path(directory),
            ) as url:
                return measure_services(
                    url, orders=orders, catalog=catalog, orders_db=orders_db, service=service
                )
        finally:
            for process in (catalog, orders):
                process.stop()


def pid(service: Service) -> int:
    if service.process is None:
        raise RuntimeError(f"{service.package} is not running")
    return service.process.pid


def measure_services(
    url: str, *, orders: Service, catalog: Service, orders_db: str, service: dict[str, str]
) -> dict[str, Result]:
    direct_orders = f"http://{orders.address}"
    direct_catalog = f"http://{catalog.address}"
    whole = summed_cpu([pid(orders), pid(catalog)])
    variants = asyncio.run(stock(url, orders_db, variants=BUYERS + 1))
    shoppers = asyncio.run(buyers(url, variants[:BUYERS]))
    jwks = get("/.well-known/jwks.json")
    return {
        "orders /healthz": asyncio.run(
            run(direct_orders, "GET /healthz (orders)", get("/healthz"), 1000, whole)
        ),
        "checkout": asyncio.run(
            run(url, "POST /orders (via gateway)", checkout_as(iter(shoppers)), BUYERS, whole)
        ),
        **side_by_side(
            {
                "GET jwks.json (orders, direct)": direct_orders,
                "GET jwks.json (orders, via gateway)": url,
            },
            jwks,
            whole,
        ),
        "catalog /healthz": one_at_a_time(
            direct_catalog, "GET /healthz (catalog, direct)", get("/healthz"), whole
        ),
        "reserve": one_at_a_time(
            direct_catalog,
            "PUT reservation + confirm (catalog)",
            reserve_and_confirm(variants[-1], service),
            whole,
        ),
    }


def added(hop: Result, without: Result, p: float) -> float:
    return hop.percentile(p) - without.percentile(p)


def main() -> None:
    nginx = find_program("nginx")
    if nginx is None:
        sys.exit("nginx is not installed (apt-get install nginx): the gateway needs it")
    base, monolith_checkout = monolith()
    split = services(nginx)
    checkout = split["checkout"]

    print_section("stage-2-ecommerce (the monolith): checkout", [monolith_checkout], base)
    print_section(
        "stage-3-microservices: checkout (nginx -> orders -> catalog)",
        [checkout],
        split["orders /healthz"],
    )
    print_section(
        "stage-3-microservices: one hop at a time (one request at a time)",
        [
            split["GET jwks.json (orders, direct)"],
            split["GET jwks.json (orders, via gateway)"],
            split["reserve"],
        ],
        split["catalog /healthz"],
    )
    print("\nthe split: checkout through the gateway / the monolith's checkout")
    print(f"  throughput                          {checkout.rps / monolith_checkout.rps:>6.2f}x")
    for p in (50, 99):
        ratio = checkout.percentile(p) / monolith_checkout.percentile(p)
        print(f"  p{p} latency                         {ratio:>6.2f}x")
    split_cpu, monolith_cpu = checkout.cpu_ms_per_request, monolith_checkout.cpu_ms_per_request
    if split_cpu is not None and monolith_cpu is not None:
        print(f"  CPU per checkout (orders + catalog) {split_cpu / monolith_cpu:>6.2f}x")
    print("\nadded latency of each hop, ms (p50 / p99)")
    gateway_hop = (
        split["GET jwks.json (orders, via gateway)"],
        split["GET jwks.json (orders, direct)"],
    )
    print(f"  the gateway (nginx)                 {added(*gateway_hop, 50):>6.2f} / ", end="")
    print(f"{added(*gateway_hop, 99):.2f}")
    reserve = split["reserve"]
    print(f"  orders -> catalog (reserve, confirm) {reserve.percentile(50):>5.2f} / ", end="")
    print(f"{reserve.percentile(99):.2f}")
    results = [base, monolith_checkout, *split.values()]
    if any(result.errors for result in results):
        sys.exit("some requests failed; the numbers above are not trustworthy")


if __name__ == "__main__":
    main()

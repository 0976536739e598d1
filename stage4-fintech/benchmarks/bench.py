"""Stage 4 fintech benchmark: transfers per second through the ledger's gRPC API.

1. The baseline: a plain single-row `UPDATE accounts SET balance = balance + 1`, one per
   transaction, on the same database and connection pool. It is what "just update the
   balance" costs, with none of the ledger's guarantees: no entries, no history, no
   idempotency, no lock order, and a lost update for anyone who reads before writing.
2. One transfer per gRPC call, random pairs among 1,000 accounts.
3. One transfer per call, all on one hot pair of accounts, both directions: every call
   waits for the one before it (the pair's row locks).
4. Batches of 100, then 1,000 transfers per call, random pairs among 1,000 accounts.

Each figure is transfers (or updates) per second, with latency per call; the ratio column
compares it with the baseline. PostgreSQL commits with its own settings (`fsync`,
`synchronous_commit`), printed at the start: with fsync on, each commit waits for the
disk, which is why batching counts. The gRPC server runs in this process, on the clients'
event loop, so on a small machine Python's CPU (protobuf, SQLAlchemy, asyncpg) is shared
between both sides; the server's CPU per transfer is what to compare between versions.

Needs PostgreSQL, found like the tests find it (`TEST_POSTGRES_URL`); uses a throw-away
database. Run from the stage folder: `uv run python benchmarks/bench.py` (`make bench`).
"""

import asyncio
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ledger.config import Settings
from ledger.rpc.client import LedgerClient
from ledger.rpc.server import start_grpc_server
from ledger.v1 import ledger_pb2 as pb
from roadmap_shared.bench import Result, print_section
from roadmap_shared.testing.databases import migrated_database
from roadmap_shared.testing.factories import settings_for_tests

STAGE = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ACCOUNTS = 1000
CONCURRENCY = 16
SINGLE_TRANSFERS = 2000
BATCH_SIZES = [100, 1000]
BATCHED_TRANSFERS = 8000
BATCH_CONCURRENCY = 4

Call = Callable[[], Awaitable[int]]  # one call; how many transfers it made


async def timed(name: str, call: Call, *, calls: int, concurrency: int) -> Result:
    """`calls` calls, `concurrency` at a time. The result counts transfers, not calls, so
    that a batch of 100 weighs 100; latencies are per call."""
    print(f"bench: {name} ({calls} calls)", flush=True)
    latencies: list[float] = []
    done = errors = 0
    remaining = iter(range(calls))

    async def worker() -> None:
        nonlocal done, errors
        for _ in remaining:
            started = time.perf_counter()
            try:
                made = await call()  # not `done += await call()`: that reads `done` first
                done += made
            except grpc.aio.AioRpcError:
                errors += 1
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, done, time.perf_counter() - started, latencies, errors)


def new_transfer(debit: str, credit: str) -> pb.NewTransfer:
    return pb.NewTransfer(
        id=str(uuid.uuid4()),
        debit_account_id=debit,
        credit_account_id=credit,
        amount=1,
        currency="EUR",
    )


async def run(database_url: str) -> None:
    settings = settings_for_tests(Settings, database_url=database_url, grpc_port=0)
    engine = create_async_engine(database_url, pool_size=CONCURRENCY, max_overflow=4)
    server, port = await start_grpc_server(settings, engine)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            await measure(LedgerClient(channel), engine)
    finally:
        await server.stop(grace=None)
        await engine.dispose()


async def measure(ledger: LedgerClient, engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        fsync = await connection.scalar(text("SHOW fsync"))
        synchronous = await connection.scalar(text("SHOW synchronous_commit"))
    print(f"PostgreSQL: fsync={fsync}, synchronous_commit={synchronous}")
    # Accounts that may go negative: no transfer is refused, every call does the full work.
    ids = [str(uuid.uuid4()) for _ in range(ACCOUNTS)]
    await ledger.CreateAccounts(
        pb.CreateAccountsRequest(accounts=[pb.NewAccount(id=i, currency="EUR") for i in ids])
    )
    pick = random.Random(4)  # noqa: S311 (a repeatable mix, not a secret)

    async def plain_update() -> int:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE accounts SET balance = balance + 1 WHERE id = :id"),
                {"id": pick.choice(ids)},
            )
        return 1

    async def one_transfer() -> int:
        request = pb.CreateTransfersRequest(transfers=[new_transfer(*pick.sample(ids, 2))])
        response = await ledger.CreateTransfers(request)
        return sum(r.outcome == pb.OUTCOME_CREATED for r in response.results)

    async def hot_pair() -> int:
        pair = ids[:2] if pick.random() < 0.5 else ids[1::-1]
        request = pb.CreateTransfersRequest(transfers=[new_transfer(*pair)])
        response = await ledger.CreateTransfers(request)
        return sum(r.outcome == pb.OUTCOME_CREATED for r in response.results)

    def batch_of(size: int) -> Call:
        async def batch() -> int:
            transfers = [new_transfer(*pick.sample(ids, 2)) for _ in range(size)]
            request = pb.CreateTransfersRequest(transfers=transfers)
            response = await ledger.CreateTransfers(request)
            return sum(r.outcome == pb.OUTCOME_CREATED for r in response.results)

        return batch

    baseline = await timed(
        "UPDATE one row (baseline)", plain_update, calls=SINGLE_TRANSFERS, concurrency=CONCURRENCY
    )
    results = [
        await timed(
            "1 transfer per call", one_transfer, calls=SINGLE_TRANSFERS, concurrency=CONCURRENCY
        ),
        await timed(
            "1 transfer per call, one hot pair",
            hot_pair,
            calls=SINGLE_TRANSFERS // 4,
            concurrency=CONCURRENCY,
        ),
        *[
            await timed(
                f"{size} transfers per call",
                batch_of(size),
                calls=BATCHED_TRANSFERS // size,
                concurrency=BATCH_CONCURRENCY,
            )
            for size in BATCH_SIZES
        ],
    ]
    print_section("Transfers per second through gRPC (req/s = transfers/s)", results, baseline)


if __name__ == "__main__":
    with migrated_database(POSTGRES_URL, "bench_ledger", STAGE / "src/ledger/alembic.ini") as url:
        asyncio.run(run(url))

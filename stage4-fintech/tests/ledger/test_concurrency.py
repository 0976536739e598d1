"""A thousand transfers at once, many between the same two accounts in both directions:
the ledger stays balanced and nobody sees a deadlock."""

import asyncio
import random
from itertools import pairwise

from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.rpc.client import LedgerClient
from ledger.v1 import ledger_pb2 as pb
from tests.ledger.factories import fund, open_accounts, send, transfer
from tests.ledger.invariants import assert_ledger_holds


def deadlocks() -> float:
    return (
        REGISTRY.get_sample_value("ledger_transaction_retries_total", {"cause": "deadlock"}) or 0.0
    )


ACCOUNTS = 50
TRANSFERS = 1000
CLIENTS = 24


async def test_a_thousand_concurrent_transfers_keep_every_invariant(
    ledger: LedgerClient, db_engine: AsyncEngine
) -> None:
    accounts = await open_accounts(ledger, ACCOUNTS)
    await fund(ledger, accounts, 500)
    pick = random.Random(15)  # noqa: S311 (a repeatable mix, not a secret)
    # Opposing pairs: half of the transfers go back and forth between the same accounts,
    # the case where locking in the order of arrival would deadlock.
    work: list[pb.NewTransfer] = []
    for n in range(TRANSFERS):
        if n % 2:
            a, b = accounts[n % 4], accounts[(n + 1) % 4]
            debit, credit = (a, b) if n % 4 == 1 else (b, a)
        else:
            debit, credit = pick.sample(accounts, 2)
        work.append(transfer(debit, credit, pick.randint(1, 60)))
    queue: asyncio.Queue[pb.NewTransfer] = asyncio.Queue()
    for item in work:
        queue.put_nowait(item)
    outcomes: list[int] = []

    async def client() -> None:
        while not queue.empty():
            item = queue.get_nowait()
            [result] = await send(ledger, item)
            outcomes.append(result.outcome)
            assert result.outcome == pb.OUTCOME_CREATED or (
                result.reason == pb.REASON_INSUFFICIENT_FUNDS
            ), result

    deadlocks_before = deadlocks()
    async with asyncio.timeout(120):
        await asyncio.gather(*(client() for _ in range(CLIENTS)))

    # Accounts locked in one order never wait for each other in a circle: PostgreSQL had
    # no deadlock to break (and the retry that would have hidden one never ran).
    assert deadlocks() == deadlocks_before

    assert len(outcomes) == TRANSFERS
    assert outcomes.count(pb.OUTCOME_CREATED) > TRANSFERS // 2
    await assert_ledger_holds(db_engine)


async def test_batches_in_opposite_orders_do_not_deadlock(
    ledger: LedgerClient, db_engine: AsyncEngine
) -> None:
    accounts = await open_accounts(ledger, 10)
    await fund(ledger, accounts, 1000)
    forward = [transfer(a, b, 1) for a, b in pairwise(accounts)]
    backward = [transfer(b, a, 1) for a, b in pairwise(reversed(accounts))]

    batches = [send(ledger, *(forward if n % 2 else backward)) for n in range(20)]
    deadlocks_before = deadlocks()
    results = await asyncio.gather(*batches)

    assert deadlocks() == deadlocks_before  # none broken by PostgreSQL, none retried

    # The first of each is created, the 9 others are its retries.
    outcomes = [result.outcome for batch in results for result in batch]
    assert outcomes.count(pb.OUTCOME_CREATED) == len(forward) + len(backward)
    await assert_ledger_holds(db_engine)

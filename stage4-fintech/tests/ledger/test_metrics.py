"""The ledger's metrics, under the names alert rules and dashboards are written against."""

import asyncio
import uuid

import grpc
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.maintenance import refresh_gauges
from ledger.rpc.client import LedgerClient
from ledger.v1 import ledger_pb2 as pb
from tests.ledger.factories import fund, open_accounts, send, transfer


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_transfers_are_counted_by_outcome(ledger: LedgerClient) -> None:
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 10)
    before = {
        o: sample("ledger_transfers_total", outcome=o) for o in ("created", "exists", "rejected")
    }
    sent = transfer(alice, bob, 5)

    await send(ledger, sent, sent, transfer(alice, bob, 50))

    after = {o: sample("ledger_transfers_total", outcome=o) for o in before}
    assert {o: after[o] - before[o] for o in before} == {"created": 1, "exists": 1, "rejected": 1}


async def test_grpc_calls_are_counted_by_method_and_code(ledger: LedgerClient) -> None:
    labels = {"grpc_method": "VoidPendingTransfer", "grpc_code": "NOT_FOUND"}
    before = sample("grpc_server_handled_total", **labels)

    with pytest.raises(grpc.aio.AioRpcError):
        await ledger.VoidPendingTransfer(pb.VoidPendingTransferRequest(id=str(uuid.uuid4())))

    # An aborted call's status reaches the client before the server's interceptor has
    # finished with it: the count follows a moment later.
    for _ in range(500):
        if sample("grpc_server_handled_total", **labels) == before + 1:
            break
        await asyncio.sleep(0.01)
    assert sample("grpc_server_handled_total", **labels) == before + 1
    assert sample("grpc_server_handling_seconds_count", grpc_method="VoidPendingTransfer") > 0


async def test_the_imbalance_reads_zero_and_pending_transfers_are_counted(
    ledger: LedgerClient, db_engine: AsyncEngine
) -> None:
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 10)
    await send(ledger, transfer(alice, bob, 3, pending=True, timeout_seconds=60))

    await refresh_gauges(db_engine)

    assert sample("ledger_imbalance", currency="EUR") == 0
    assert sample("ledger_pending_transfers") == 1


async def test_a_balance_changed_without_an_entry_shows_as_an_imbalance(
    ledger: LedgerClient, db_engine: AsyncEngine
) -> None:
    [account] = await open_accounts(ledger, 1, currency="CHF")
    changed_by_hand = text("UPDATE accounts SET balance = balance + 10 WHERE id = :id")
    async with db_engine.begin() as connection:
        await connection.execute(changed_by_hand, {"id": uuid.UUID(account)})
    try:
        await refresh_gauges(db_engine)
        assert sample("ledger_imbalance", currency="CHF") == 10
    finally:
        async with db_engine.begin() as connection:
            await connection.execute(
                text("UPDATE accounts SET balance = 0 WHERE id = :id"), {"id": uuid.UUID(account)}
            )
        await refresh_gauges(db_engine)

"""A caller's deadline bounds the work: once it passes, the ledger stops and commits
nothing, even if what it was waiting for turns up afterwards."""

import asyncio

import grpc
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.rpc.client import LedgerClient
from ledger.v1 import ledger_pb2 as pb
from tests.ledger.factories import balances, fund, open_accounts, transfer


async def test_a_transfer_past_its_deadline_is_never_applied(
    ledger: LedgerClient, db_engine: AsyncEngine
) -> None:
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 100)
    request = pb.CreateTransfersRequest(transfers=[transfer(alice, bob, 10)])

    async with db_engine.connect() as blocker:
        # Another transaction holds Alice's account: the transfer waits for its lock.
        await blocker.execute(
            text("SELECT 1 FROM accounts WHERE id = :id FOR UPDATE"), {"id": alice}
        )
        with pytest.raises(grpc.aio.AioRpcError) as late:
            await ledger.CreateTransfers(request, timeout=0.5)
        await blocker.rollback()
    await asyncio.sleep(0.5)  # time enough to commit, had the ledger kept waiting

    assert late.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    labels = {"grpc_method": "CreateTransfers", "grpc_code": "DEADLINE_EXCEEDED"}
    assert (REGISTRY.get_sample_value("grpc_server_handled_total", labels) or 0) >= 1
    assert (await balances(ledger, [alice]))[alice].balance == 100

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
    expired_before = handled("CreateTransfers", "DEADLINE_EXCEEDED")

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
    assert handled("CreateTransfers", "DEADLINE_EXCEEDED") == expired_before + 1
    assert (await balances(ledger, [alice]))[alice].balance == 100


async def test_a_call_its_caller_cancels_is_counted_cancelled_not_expired(
    ledger: LedgerClient, db_engine: AsyncEngine
) -> None:
    """A call without a deadline has no time remaining (None), which is not "expired":
    counted as a deadline, it would page someone through the gRPC error-rate alert."""
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 100)
    cancelled_before = handled("CreateTransfers", "CANCELLED")
    expired_before = handled("CreateTransfers", "DEADLINE_EXCEEDED")

    async with db_engine.connect() as blocker:
        await blocker.execute(
            text("SELECT 1 FROM accounts WHERE id = :id FOR UPDATE"), {"id": alice}
        )
        call = ledger.CreateTransfers(
            pb.CreateTransfersRequest(transfers=[transfer(alice, bob, 10)])
        )
        await asyncio.sleep(0.3)  # the server is waiting for the lock
        call.cancel()
        for _ in range(50):  # the server learns of the cancellation a moment later
            if handled("CreateTransfers", "CANCELLED") > cancelled_before:
                break
            await asyncio.sleep(0.05)
        await blocker.rollback()

    assert handled("CreateTransfers", "CANCELLED") == cancelled_before + 1
    assert handled("CreateTransfers", "DEADLINE_EXCEEDED") == expired_before
    assert (await balances(ledger, [alice]))[alice].balance == 100


def handled(method: str, code: str) -> float:
    labels = {"grpc_method": method, "grpc_code": code}
    return REGISTRY.get_sample_value("grpc_server_handled_total", labels) or 0

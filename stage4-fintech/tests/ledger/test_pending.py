"""Two-phase transfers: a reservation, then exactly one of post, void or expiry."""

import asyncio
import uuid
from collections.abc import Awaitable

import grpc
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.maintenance import expire_backlog, expire_due_transfers
from ledger.rpc.client import LedgerClient
from ledger.v1 import ledger_pb2 as pb
from tests.ledger.factories import balances, fund, open_accounts, send, transfer


async def reserve(ledger: LedgerClient, amount: int = 100) -> tuple[str, str, str]:
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 1000)
    [result] = await send(ledger, transfer(alice, bob, amount, pending=True, timeout_seconds=60))
    assert result.transfer.state == pb.TRANSFER_STATE_PENDING
    return alice, bob, result.transfer.id


def post(transfer_id: str, amount: int = 0) -> pb.PostPendingTransferRequest:
    return pb.PostPendingTransferRequest(id=transfer_id, amount=amount)


async def test_a_pending_transfer_holds_funds_without_moving_them(ledger: LedgerClient) -> None:
    alice, bob, _ = await reserve(ledger, 400)

    accounts = await balances(ledger, [alice, bob])
    assert (accounts[alice].balance, accounts[alice].pending_debits) == (1000, 400)
    assert (accounts[bob].balance, accounts[bob].pending_credits) == (0, 400)
    # What is held cannot be spent twice.
    [result] = await send(ledger, transfer(alice, bob, 601))
    assert result.reason == pb.REASON_INSUFFICIENT_FUNDS


async def test_a_partial_post_moves_part_and_releases_the_rest(ledger: LedgerClient) -> None:
    alice, bob, transfer_id = await reserve(ledger, 400)

    result = await ledger.PostPendingTransfer(post(transfer_id, 150))

    assert (result.transfer.state, result.transfer.posted_amount) == (
        pb.TRANSFER_STATE_POSTED,
        150,
    )
    accounts = await balances(ledger, [alice, bob])
    assert (accounts[alice].balance, accounts[alice].pending_debits) == (850, 0)
    assert (accounts[bob].balance, accounts[bob].pending_credits) == (150, 0)


async def test_racing_posts_and_voids_finish_a_transfer_exactly_once(
    ledger: LedgerClient,
) -> None:
    alice, bob, transfer_id = await reserve(ledger, 100)
    void = pb.VoidPendingTransferRequest(id=transfer_id)

    calls: list[Awaitable[pb.TransferResult]]
    calls = [ledger.PostPendingTransfer(post(transfer_id)) for _ in range(10)]
    calls += [ledger.VoidPendingTransfer(void) for _ in range(10)]
    results = await asyncio.gather(*calls, return_exceptions=True)

    done = [r for r in results if isinstance(r, pb.TransferResult)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(done) + len(refused) == 20
    assert [r.outcome for r in done].count(pb.OUTCOME_CREATED) == 1
    assert {r.code() for r in refused} <= {grpc.StatusCode.FAILED_PRECONDITION}
    posted = done[0].transfer.state == pb.TRANSFER_STATE_POSTED
    accounts = await balances(ledger, [alice, bob])
    assert accounts[alice].balance == (900 if posted else 1000)
    assert accounts[alice].pending_debits == 0


async def test_a_transfer_expires_once_and_cannot_be_posted_after(
    ledger: LedgerClient, db_engine: AsyncEngine
) -> None:
    alice, _, transfer_id = await reserve(ledger)
    async with db_engine.begin() as connection:
        await connection.execute(
            text("UPDATE transfers SET expires_at = now() - interval '1 second' WHERE id = :id"),
            {"id": transfer_id},
        )

    with pytest.raises(grpc.aio.AioRpcError) as too_late:
        await ledger.PostPendingTransfer(post(transfer_id))
    expired = await asyncio.gather(*(expire_due_transfers(db_engine) for _ in range(5)))

    assert too_late.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert dict(too_late.value.trailing_metadata())["ledger-reason"] == "REASON_EXPIRED"
    assert sum(expired) == 1
    accounts = await balances(ledger, [alice])
    assert (accounts[alice].balance, accounts[alice].pending_debits) == (1000, 0)


async def test_posting_twice_the_same_amount_is_a_retry(ledger: LedgerClient) -> None:
    _, _, transfer_id = await reserve(ledger)

    first = await ledger.PostPendingTransfer(post(transfer_id))
    again = await ledger.PostPendingTransfer(post(transfer_id, 100))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await ledger.VoidPendingTransfer(pb.VoidPendingTransferRequest(id=transfer_id))

    assert (first.outcome, again.outcome) == (pb.OUTCOME_CREATED, pb.OUTCOME_EXISTS)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_posting_more_than_held_or_an_unknown_transfer_is_refused(
    ledger: LedgerClient,
) -> None:
    alice, bob, transfer_id = await reserve(ledger)
    [plain] = await send(ledger, transfer(alice, bob, 1))

    for request, code in [
        (post(transfer_id, 101), grpc.StatusCode.INVALID_ARGUMENT),
        (post(plain.transfer.id), grpc.StatusCode.NOT_FOUND),
        (post("nope"), grpc.StatusCode.INVALID_ARGUMENT),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await ledger.PostPendingTransfer(request)
        assert refused.value.code() == code


async def test_a_pending_transfer_needs_a_timeout(ledger: LedgerClient) -> None:
    alice, bob = await open_accounts(ledger, 2)
    [no_timeout, plain_with_one] = await send(
        ledger,
        transfer(alice, bob, 1, pending=True),
        transfer(alice, bob, 1, timeout_seconds=5),
    )
    assert no_timeout.reason == plain_with_one.reason == pb.REASON_INVALID_TIMEOUT


async def test_a_post_that_waited_past_the_timeout_for_its_locks_is_refused(
    ledger: LedgerClient, db_engine: AsyncEngine
) -> None:
    """The timeout is checked on the clock of the check, not of the transaction's start:
    a post queued behind a long batch must not slip in after the reservation expired."""
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 1000)
    [held] = await send(ledger, transfer(alice, bob, 100, pending=True, timeout_seconds=1))

    async with db_engine.connect() as blocker:
        await blocker.execute(
            text("SELECT 1 FROM accounts WHERE id = :id FOR UPDATE"), {"id": alice}
        )
        posting = asyncio.ensure_future(ledger.PostPendingTransfer(post(held.transfer.id)))
        await asyncio.sleep(1.5)  # the post waits for the lock past the transfer's timeout
        await blocker.rollback()
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await posting

    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert dict(refused.value.trailing_metadata())["ledger-reason"] == "REASON_EXPIRED"
    assert (await balances(ledger, [bob]))[bob].balance == 0


async def test_a_backlog_of_due_transfers_is_expired_in_one_go(
    ledger: LedgerClient, db_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an outage, more are due than one round takes: every round comes back full,
    so the next one starts at once instead of after the interval."""
    monkeypatch.setattr("ledger.maintenance.EXPIRED_PER_ROUND", 2)
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 1000)
    held = [transfer(alice, bob, 10, pending=True, timeout_seconds=1) for _ in range(5)]
    await send(ledger, *held)
    await asyncio.sleep(1.2)

    assert await expire_backlog(db_engine) == 5
    accounts = await balances(ledger, [alice])
    assert (accounts[alice].balance, accounts[alice].pending_debits) == (1000, 0)


async def test_a_refusal_to_finish_tells_expired_from_posted(
    ledger: LedgerClient, db_engine: AsyncEngine
) -> None:
    """A caller voiding must know whether the money moved (posted: NOT_PENDING) or was
    released by the ledger itself (EXPIRED)."""
    _, _, posted = await reserve(ledger)
    await ledger.PostPendingTransfer(post(posted))
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 1000)
    [held] = await send(ledger, transfer(alice, bob, 100, pending=True, timeout_seconds=1))
    await asyncio.sleep(1.2)
    await expire_due_transfers(db_engine)

    reasons = []
    for transfer_id in (posted, held.transfer.id):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await ledger.VoidPendingTransfer(pb.VoidPendingTransferRequest(id=transfer_id))
        reasons.append(dict(refused.value.trailing_metadata())["ledger-reason"])

    assert reasons == ["REASON_NOT_PENDING", "REASON_EXPIRED"]


async def test_lookup_transfers_tells_how_each_stands_and_leaves_unknown_ids_out(
    ledger: LedgerClient,
) -> None:
    alice, bob, pending_id = await reserve(ledger, 100)
    _, _, posted_id = await reserve(ledger, 200)
    await ledger.PostPendingTransfer(post(posted_id))
    _, _, voided_id = await reserve(ledger, 300)
    await ledger.VoidPendingTransfer(pb.VoidPendingTransferRequest(id=voided_id))
    too_much = transfer(alice, bob, 10**6)
    [refused] = await send(ledger, too_much)
    assert refused.outcome == pb.OUTCOME_REJECTED  # and so never stored
    asked = [voided_id, str(uuid.uuid4()), posted_id, pending_id, too_much.id]

    response = await ledger.LookupTransfers(pb.LookupTransfersRequest(ids=asked))

    assert [(t.id, t.state, t.posted_amount) for t in response.transfers] == [
        (voided_id, pb.TRANSFER_STATE_VOIDED, 0),
        (posted_id, pb.TRANSFER_STATE_POSTED, 200),
        (pending_id, pb.TRANSFER_STATE_PENDING, 0),
    ]


async def test_lookup_transfers_refuses_a_bad_id_or_batch(ledger: LedgerClient) -> None:
    for ids in (["not-a-uuid"], [], [str(uuid.uuid4()) for _ in range(1001)]):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await ledger.LookupTransfers(pb.LookupTransfersRequest(ids=ids))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT

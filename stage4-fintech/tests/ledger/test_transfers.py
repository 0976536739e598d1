"""Transfers over gRPC: double entry, idempotent retries, batches, and every refusal with
its reason."""

import asyncio
import uuid

import grpc
import pytest

from ledger.rpc.client import LedgerClient
from ledger.v1 import ledger_pb2 as pb
from tests.ledger.factories import balances, fund, open_accounts, send, transfer


async def test_a_transfer_moves_money_and_records_both_entries(ledger: LedgerClient) -> None:
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 1000)

    [result] = await send(ledger, transfer(alice, bob, 300))

    assert result.outcome == pb.OUTCOME_CREATED
    assert result.transfer.state == pb.TRANSFER_STATE_POSTED
    accounts = await balances(ledger, [alice, bob])
    assert (accounts[alice].balance, accounts[bob].balance) == (700, 300)
    history = await ledger.GetAccountHistory(pb.GetAccountHistoryRequest(account_id=alice))
    newest = history.entries[0]
    assert (newest.amount, newest.balance_before, newest.balance_after) == (-300, 1000, 700)
    assert newest.account_version == accounts[alice].version


async def test_a_retry_returns_the_first_result_and_moves_nothing(ledger: LedgerClient) -> None:
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 1000)
    sent = transfer(alice, bob, 300)

    first = await send(ledger, sent)
    again = await send(ledger, sent)

    assert [r.outcome for r in first + again] == [pb.OUTCOME_CREATED, pb.OUTCOME_EXISTS]
    assert again[0].transfer == first[0].transfer
    assert (await balances(ledger, [alice]))[alice].balance == 700


async def test_the_same_id_with_another_body_is_refused(ledger: LedgerClient) -> None:
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 1000)
    transfer_id = str(uuid.uuid4())
    await send(ledger, transfer(alice, bob, 300, transfer_id=transfer_id))

    [result] = await send(ledger, transfer(alice, bob, 301, transfer_id=transfer_id))

    assert (result.outcome, result.reason) == (pb.OUTCOME_REJECTED, pb.REASON_ID_REUSED)
    assert (await balances(ledger, [alice]))[alice].balance == 700


async def test_the_same_id_sent_twenty_times_at_once_is_one_transfer(
    ledger: LedgerClient,
) -> None:
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 1000)
    sent = transfer(alice, bob, 100)

    results = await asyncio.gather(*(send(ledger, sent) for _ in range(20)))

    outcomes = sorted(result.outcome for [result] in results)
    assert outcomes == [pb.OUTCOME_CREATED] + [pb.OUTCOME_EXISTS] * 19
    accounts = await balances(ledger, [alice, bob])
    assert (accounts[alice].balance, accounts[bob].balance) == (900, 100)


async def test_each_transfer_of_a_batch_has_its_own_result(ledger: LedgerClient) -> None:
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 100)
    unknown, dollars = str(uuid.uuid4()), (await open_accounts(ledger, 1, currency="USD"))[0]

    results = await send(
        ledger,
        transfer(alice, bob, 60),
        transfer(alice, bob, 60),  # only 40 left
        transfer(alice, unknown, 10),
        transfer(alice, dollars, 10),
        transfer(alice, bob, 0),
        transfer(alice, bob, -5),
        transfer(alice, alice, 5),
        transfer("not-a-uuid", bob, 5),
        transfer(alice, bob, 40),
    )

    assert [(r.outcome, r.reason) for r in results] == [
        (pb.OUTCOME_CREATED, pb.REASON_UNSPECIFIED),
        (pb.OUTCOME_REJECTED, pb.REASON_INSUFFICIENT_FUNDS),
        (pb.OUTCOME_REJECTED, pb.REASON_ACCOUNT_NOT_FOUND),
        (pb.OUTCOME_REJECTED, pb.REASON_CURRENCY_MISMATCH),
        (pb.OUTCOME_REJECTED, pb.REASON_INVALID_AMOUNT),
        (pb.OUTCOME_REJECTED, pb.REASON_INVALID_AMOUNT),
        (pb.OUTCOME_REJECTED, pb.REASON_SAME_ACCOUNT),
        (pb.OUTCOME_REJECTED, pb.REASON_INVALID_ID),
        (pb.OUTCOME_CREATED, pb.REASON_UNSPECIFIED),
    ]
    assert all(r.detail for r in results[1:-1])
    accounts = await balances(ledger, [alice, bob])
    assert (accounts[alice].balance, accounts[bob].balance) == (0, 100)


async def test_an_account_that_may_go_negative_does(ledger: LedgerClient) -> None:
    [bank] = await open_accounts(ledger, 1, must_not_go_negative=False)
    [alice] = await open_accounts(ledger, 1)

    [result] = await send(ledger, transfer(bank, alice, 500))

    assert result.outcome == pb.OUTCOME_CREATED
    assert (await balances(ledger, [bank]))[bank].balance == -500


async def test_an_empty_or_oversized_batch_is_invalid(ledger: LedgerClient) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await send(ledger)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_an_account_id_taken_by_another_account_is_refused(ledger: LedgerClient) -> None:
    [alice] = await open_accounts(ledger, 1)
    again = pb.NewAccount(id=alice, currency="EUR", must_not_go_negative=True)
    other = pb.NewAccount(id=alice, currency="USD", must_not_go_negative=True)

    same = await ledger.CreateAccounts(pb.CreateAccountsRequest(accounts=[again]))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await ledger.CreateAccounts(pb.CreateAccountsRequest(accounts=[other]))

    assert same.results[0].outcome == pb.OUTCOME_EXISTS
    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert dict(refused.value.trailing_metadata())["ledger-reason"] == "REASON_ID_REUSED"


async def test_an_account_named_twice_in_one_request_is_created_once(
    ledger: LedgerClient,
) -> None:
    account = pb.NewAccount(id=str(uuid.uuid4()), currency="EUR", must_not_go_negative=True)

    answer = await ledger.CreateAccounts(pb.CreateAccountsRequest(accounts=[account, account]))

    assert [r.outcome for r in answer.results] == [pb.OUTCOME_CREATED, pb.OUTCOME_EXISTS]


async def test_a_bad_currency_or_id_is_invalid(ledger: LedgerClient) -> None:
    for account, reason in [
        (pb.NewAccount(id=str(uuid.uuid4()), currency="euro"), "REASON_INVALID_CURRENCY"),
        (pb.NewAccount(id="42", currency="EUR"), "REASON_INVALID_ID"),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await ledger.CreateAccounts(pb.CreateAccountsRequest(accounts=[account]))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert dict(refused.value.trailing_metadata())["ledger-reason"] == reason


async def test_a_total_past_64_bits_is_refused_alone(ledger: LedgerClient) -> None:
    """Python's integers never overflow, the database's do: the transfer that would take a
    balance or a pending total past a bigint is refused, the rest of its batch done."""
    largest = 2**63 - 1
    [bank] = await open_accounts(ledger, 1, must_not_go_negative=False)
    full, other = await open_accounts(ledger, 2)
    await send(ledger, transfer(bank, full, largest))

    results = await send(
        ledger,
        transfer(bank, full, 5),
        transfer(bank, other, 1),
        transfer(bank, other, largest, pending=True, timeout_seconds=60),
        transfer(bank, other, largest, pending=True, timeout_seconds=60),
    )

    assert [(r.outcome, r.reason) for r in results] == [
        (pb.OUTCOME_REJECTED, pb.REASON_LIMIT_EXCEEDED),
        (pb.OUTCOME_CREATED, pb.REASON_UNSPECIFIED),
        (pb.OUTCOME_CREATED, pb.REASON_UNSPECIFIED),
        (pb.OUTCOME_REJECTED, pb.REASON_LIMIT_EXCEEDED),
    ]
    accounts = await balances(ledger, [full, other])
    assert (accounts[full].balance, accounts[other].balance) == (largest, 1)


async def test_every_list_a_call_carries_is_bounded(ledger: LedgerClient) -> None:
    too_many = [str(uuid.uuid4()) for _ in range(1001)]
    accounts = [pb.NewAccount(id=i, currency="EUR") for i in too_many]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await ledger.LookupAccounts(pb.LookupAccountsRequest(ids=too_many))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await ledger.CreateAccounts(pb.CreateAccountsRequest(accounts=accounts))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_history_of_an_unknown_account_is_not_found(ledger: LedgerClient) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await ledger.GetAccountHistory(pb.GetAccountHistoryRequest(account_id=str(uuid.uuid4())))
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    assert (refused.value.details() or "").startswith("no account")

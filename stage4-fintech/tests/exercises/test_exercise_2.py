"""Exercise 2 (medium): balancing transfers, "as much as there is, up to the amount".
`make exercise STAGE=stage4-fintech N=2`"""

import asyncio
import uuid

import pytest
from google.protobuf import json_format

from ledger.rpc.client import LedgerClient
from ledger.v1 import ledger_pb2 as pb
from tests.ledger.factories import balances, fund, open_accounts, send, transfer

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 2: NewTransfer gets a `balancing` flag: from an account that must not go "
    "negative it moves what is available, up to the amount, and says so (see the README)"
)


def balancing(
    debit: str, credit: str, amount: int, transfer_id: str | None = None
) -> pb.NewTransfer:
    assert "balancing" in pb.NewTransfer.DESCRIPTOR.fields_by_name, TODO
    message = transfer(debit, credit, amount, transfer_id=transfer_id)
    # Set from a dict: the generated types know the field only once it exists.
    json_format.ParseDict({"balancing": True}, message)
    return message


async def test_it_moves_what_is_available_and_the_result_says_how_much(
    ledger: LedgerClient,
) -> None:
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 60)

    [result] = await send(ledger, balancing(alice, bob, 100))

    assert result.outcome == pb.OUTCOME_CREATED, f"{TODO}: {result}"
    assert result.transfer.amount == 60, f"{TODO}: the amount moved, not the one asked"
    accounts = await balances(ledger, [alice, bob])
    assert (accounts[alice].balance, accounts[bob].balance) == (0, 60)
    [plain] = await send(ledger, transfer(bob, alice, 100))
    assert plain.reason == pb.REASON_INSUFFICIENT_FUNDS, "without the flag, nothing changes"


async def test_a_retry_is_the_first_result_and_an_empty_account_is_refused(
    ledger: LedgerClient,
) -> None:
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 60)
    sent = balancing(alice, bob, 100, transfer_id=str(uuid.uuid4()))

    first, again = await send(ledger, sent), await send(ledger, sent)
    [empty] = await send(ledger, balancing(alice, bob, 100))

    assert [r.outcome for r in first + again] == [pb.OUTCOME_CREATED, pb.OUTCOME_EXISTS], TODO
    assert again[0].transfer.amount == 60, TODO
    assert (empty.outcome, empty.reason) == (pb.OUTCOME_REJECTED, pb.REASON_INSUFFICIENT_FUNDS), (
        f"{TODO}: nothing to move is a refusal, never a transfer of 0"
    )


async def test_what_pending_transfers_hold_is_not_available(ledger: LedgerClient) -> None:
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 100)
    await send(ledger, transfer(alice, bob, 70, pending=True, timeout_seconds=60))

    [result] = await send(ledger, balancing(alice, bob, 100))

    assert result.transfer.amount == 30, TODO
    assert (await balances(ledger, [alice]))[alice].balance == 70


async def test_an_account_that_may_go_negative_gives_the_whole_amount(
    ledger: LedgerClient,
) -> None:
    [bank] = await open_accounts(ledger, 1, must_not_go_negative=False)
    [alice] = await open_accounts(ledger, 1)

    [result] = await send(ledger, balancing(bank, alice, 100))

    assert result.transfer.amount == 100, TODO


async def test_racing_balancing_transfers_move_the_balance_once(ledger: LedgerClient) -> None:
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 100)

    results = await asyncio.gather(*(send(ledger, balancing(alice, bob, 70)) for _ in range(10)))

    moved = sorted(r.transfer.amount for [r] in results if r.outcome == pb.OUTCOME_CREATED)
    assert moved == [30, 70], TODO
    accounts = await balances(ledger, [alice, bob])
    assert (accounts[alice].balance, accounts[bob].balance) == (0, 100)

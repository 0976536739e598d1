"""Exercise 3 (hard): linked transfers, which succeed or fail together.
`make exercise STAGE=stage4-fintech N=3`"""

import asyncio

import pytest
from google.protobuf import json_format
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.rpc.client import LedgerClient
from ledger.v1 import ledger_pb2 as pb
from tests.ledger.factories import balances, fund, open_accounts, send, transfer
from tests.ledger.invariants import assert_ledger_holds

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 3: NewTransfer gets a `linked` flag: a transfer with it succeeds only if the "
    "next one does, and the other way round (see the README)"
)
CREATED, REJECTED = pb.OUTCOME_CREATED, pb.OUTCOME_REJECTED


def linked(message: pb.NewTransfer) -> pb.NewTransfer:
    assert "linked" in pb.NewTransfer.DESCRIPTOR.fields_by_name, TODO
    # Set from a dict: the generated types know the field only once it exists.
    json_format.ParseDict({"linked": True}, message)
    return message


def reason(name: str) -> "pb.Reason.ValueType":
    assert f"REASON_{name}" in pb.Reason.DESCRIPTOR.values_by_name, (
        f"{TODO}; and the reason REASON_{name}"
    )
    return pb.Reason.Value(f"REASON_{name}")


async def exchange_desk(ledger: LedgerClient) -> tuple[str, str, str, str]:
    """Alice's EUR and USD accounts, with 100 EUR, and the desk's, which has 110 USD."""
    alice_eur, desk_eur = await open_accounts(ledger, 2)
    alice_usd, desk_usd = await open_accounts(ledger, 2, currency="USD")
    await fund(ledger, [alice_eur], 100)
    [bank_usd] = await open_accounts(ledger, 1, currency="USD", must_not_go_negative=False)
    await send(ledger, transfer(bank_usd, desk_usd, 110, currency="USD"))
    return alice_eur, desk_eur, alice_usd, desk_usd


async def test_a_chain_that_succeeds_moves_both_currencies(ledger: LedgerClient) -> None:
    alice_eur, desk_eur, alice_usd, desk_usd = await exchange_desk(ledger)

    results = await send(
        ledger,
        linked(transfer(alice_eur, desk_eur, 100)),
        transfer(desk_usd, alice_usd, 110, currency="USD"),
    )

    assert [r.outcome for r in results] == [CREATED, CREATED], f"{TODO}: {results}"
    accounts = await balances(ledger, [alice_eur, alice_usd])
    assert (accounts[alice_eur].balance, accounts[alice_usd].balance) == (0, 110)


async def test_a_chain_with_a_refused_transfer_moves_nothing(ledger: LedgerClient) -> None:
    alice_eur, desk_eur, alice_usd, desk_usd = await exchange_desk(ledger)
    bob, carol = await open_accounts(ledger, 2)
    await fund(ledger, [bob], 50)

    results = await send(
        ledger,
        transfer(bob, carol, 10),  # not in the chain
        linked(transfer(alice_eur, desk_eur, 100)),
        linked(transfer(desk_usd, alice_usd, 500, currency="USD")),  # the desk has 110
        transfer(alice_usd, desk_usd, 1, currency="USD"),
        transfer(bob, carol, 20),  # nor this one
    )

    assert [r.outcome for r in results] == [CREATED, REJECTED, REJECTED, REJECTED, CREATED], (
        f"{TODO}: {results}"
    )
    assert [r.reason for r in results[1:4]] == [
        reason("LINKED_FAILED"),
        pb.REASON_INSUFFICIENT_FUNDS,
        reason("LINKED_FAILED"),
    ], "the refused transfer says why; the others that it failed"
    accounts = await balances(ledger, [alice_eur, desk_eur, alice_usd, desk_usd, carol])
    assert [accounts[a].balance for a in (alice_eur, desk_eur, alice_usd, desk_usd)] == [
        100,
        0,
        0,
        110,
    ], f"{TODO}: half a chain was applied"
    assert accounts[carol].balance == 30
    assert accounts[alice_eur].version == 1, "an undone chain leaves no trace"


async def test_a_chain_left_open_at_the_end_is_refused(ledger: LedgerClient) -> None:
    alice_eur, desk_eur, _, _ = await exchange_desk(ledger)

    results = await send(ledger, linked(transfer(alice_eur, desk_eur, 10)))

    assert (results[0].outcome, results[0].reason) == (REJECTED, reason("LINKED_CHAIN_OPEN"))
    assert (await balances(ledger, [alice_eur]))[alice_eur].balance == 100


async def test_racing_chains_are_each_applied_whole_or_not_at_all(
    ledger: LedgerClient, db_engine: AsyncEngine
) -> None:
    alice_eur, desk_eur, alice_usd, desk_usd = await exchange_desk(ledger)

    # Alice's euros suffice ten times, the desk's dollars once: the chains that lose fail
    # at their second transfer, with their first one to undo.
    outcomes = await asyncio.gather(
        *(
            send(
                ledger,
                linked(transfer(alice_eur, desk_eur, 10)),
                transfer(desk_usd, alice_usd, 66, currency="USD"),
            )
            for _ in range(10)
        )
    )

    assert sorted([r.outcome for r in results] for results in outcomes) == (
        [[CREATED, CREATED]] + [[REJECTED, REJECTED]] * 9
    ), TODO
    accounts = await balances(ledger, [alice_eur, alice_usd, desk_usd])
    assert (accounts[alice_eur].balance, accounts[alice_usd].balance) == (90, 66), TODO
    assert accounts[desk_usd].balance == 44
    await assert_ledger_holds(db_engine)

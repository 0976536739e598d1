"""Exercise 1 (easy): an account's entries of one transfer.
`make exercise STAGE=stage4-fintech N=1`"""

import uuid

import grpc
import pytest
from google.protobuf import json_format
from httpx import AsyncClient

from ledger.rpc.client import LedgerClient
from ledger.v1 import ledger_pb2 as pb
from tests.ledger.factories import fund, open_accounts, send, transfer

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 1: GET /accounts/{id}/entries?transfer_id= lists only the account's entries "
    "of that transfer (see the README)"
)


def history_request(account: str, transfer_id: str) -> pb.GetAccountHistoryRequest:
    # Built from a dict: the generated types know the field only once it exists.
    fields = {"accountId": account, "transferId": transfer_id}
    return json_format.ParseDict(fields, pb.GetAccountHistoryRequest())


async def entries_of(client: AsyncClient, account: str, transfer_id: str) -> list[int]:
    response = await client.get(f"/accounts/{account}/entries", params={"transfer_id": transfer_id})
    assert response.status_code == 200, f"{TODO}: {response.status_code} {response.text}"
    return [entry["amount"] for entry in response.json()["items"]]


async def test_one_transfer_has_one_entry_per_account_and_they_sum_to_zero(
    ledger: LedgerClient, client: AsyncClient
) -> None:
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 100)
    chosen = str(uuid.uuid4())
    await send(
        ledger,
        transfer(alice, bob, 10),
        transfer(alice, bob, 20, transfer_id=chosen),
        transfer(alice, bob, 30),
    )

    debit, credit = await entries_of(client, alice, chosen), await entries_of(client, bob, chosen)

    assert (debit, credit) == ([-20], [20]), TODO
    assert sum(debit + credit) == 0


async def test_a_transfer_that_did_not_touch_the_account_has_no_entries(
    ledger: LedgerClient, client: AsyncClient
) -> None:
    alice, bob, carol = await open_accounts(ledger, 3)
    await fund(ledger, [alice], 100)
    elsewhere = str(uuid.uuid4())
    await send(ledger, transfer(alice, bob, 10, transfer_id=elsewhere))
    pending = str(uuid.uuid4())
    await send(
        ledger, transfer(alice, bob, 10, pending=True, timeout_seconds=60, transfer_id=pending)
    )

    assert await entries_of(client, carol, elsewhere) == [], TODO
    assert await entries_of(client, alice, str(uuid.uuid4())) == [], TODO
    assert await entries_of(client, alice, pending) == [], (
        f"{TODO}: a pending transfer has none yet"
    )


async def test_a_transfer_id_that_is_not_a_uuid_is_a_422(
    ledger: LedgerClient, client: AsyncClient
) -> None:
    [alice] = await open_accounts(ledger, 1)

    response = await client.get(f"/accounts/{alice}/entries", params={"transfer_id": "nope"})

    assert response.status_code == 422, f"{TODO}: {response.status_code}"


async def test_the_grpc_history_takes_the_same_filter(ledger: LedgerClient) -> None:
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 100)
    chosen = str(uuid.uuid4())
    await send(ledger, transfer(alice, bob, 10), transfer(alice, bob, 20, transfer_id=chosen))
    fields = pb.GetAccountHistoryRequest.DESCRIPTOR.fields_by_name
    assert "transfer_id" in fields, f"{TODO}; and GetAccountHistoryRequest gets `transfer_id`"

    history = await ledger.GetAccountHistory(history_request(alice, chosen))
    assert [(e.transfer_id, e.amount) for e in history.entries] == [(chosen, -20)], TODO
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await ledger.GetAccountHistory(history_request(alice, "nope"))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, TODO

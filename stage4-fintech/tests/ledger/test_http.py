"""The read-only HTTP API: an account's balance and its entries, a page at a time."""

import uuid

from httpx import AsyncClient

from ledger.rpc.client import LedgerClient
from tests.ledger.factories import fund, open_accounts, send, transfer


async def test_an_account_and_its_entries_newest_first(
    ledger: LedgerClient, client: AsyncClient
) -> None:
    alice, bob = await open_accounts(ledger, 2)
    await fund(ledger, [alice], 100)
    await send(ledger, *(transfer(alice, bob, amount) for amount in (10, 20, 30)))

    account = await client.get(f"/accounts/{alice}")
    first = await client.get(f"/accounts/{alice}/entries", params={"limit": 2})
    rest = await client.get(
        f"/accounts/{alice}/entries", params={"limit": 2, "before": first.json()["next_before"]}
    )

    assert account.status_code == 200
    assert account.json()["balance"] == 40
    assert [e["amount"] for e in first.json()["items"]] == [-30, -20]
    assert [e["amount"] for e in rest.json()["items"]] == [-10, 100]
    assert rest.json()["next_before"] is not None
    assert first.json()["items"][0]["balance_after"] == 40


async def test_an_unknown_account_is_a_problem_404(client: AsyncClient) -> None:
    for path in (f"/accounts/{uuid.uuid4()}", f"/accounts/{uuid.uuid4()}/entries"):
        response = await client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_malformed_id_or_page_size_is_a_422(client: AsyncClient) -> None:
    assert (await client.get("/accounts/42")).status_code == 422
    response = await client.get(f"/accounts/{uuid.uuid4()}/entries", params={"limit": 1000})
    assert response.status_code == 422
    past_bigint = {"before": 2**63}
    response = await client.get(f"/accounts/{uuid.uuid4()}/entries", params=past_bigint)
    assert response.status_code == 422

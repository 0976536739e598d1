"""Accounts and transfers made through the gRPC API, as another service would."""

import uuid

from ledger.rpc.client import LedgerClient
from ledger.v1 import ledger_pb2 as pb


async def open_accounts(
    ledger: LedgerClient, count: int, *, currency: str = "EUR", must_not_go_negative: bool = True
) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    await ledger.CreateAccounts(
        pb.CreateAccountsRequest(
            accounts=[
                pb.NewAccount(id=i, currency=currency, must_not_go_negative=must_not_go_negative)
                for i in ids
            ]
        )
    )
    return ids


def transfer(
    debit: str,
    credit: str,
    amount: int,
    *,
    currency: str = "EUR",
    pending: bool = False,
    timeout_seconds: int = 0,
    transfer_id: str | None = None,
) -> pb.NewTransfer:
    return pb.NewTransfer(
        id=transfer_id or str(uuid.uuid4()),
        debit_account_id=debit,
        credit_account_id=credit,
        amount=amount,
        currency=currency,
        pending=pending,
        timeout_seconds=timeout_seconds,
    )


async def send(ledger: LedgerClient, *transfers: pb.NewTransfer) -> list[pb.TransferResult]:
    response = await ledger.CreateTransfers(pb.CreateTransfersRequest(transfers=transfers))
    return list(response.results)


async def fund(ledger: LedgerClient, accounts: list[str], amount: int) -> str:
    """Gives each account `amount` from a new funding account that may go negative (the
    bank's own side of the customers' money)."""
    [bank] = await open_accounts(ledger, 1, must_not_go_negative=False)
    results = await send(ledger, *(transfer(bank, account, amount) for account in accounts))
    assert all(r.outcome == pb.OUTCOME_CREATED for r in results), results
    return bank


async def balances(ledger: LedgerClient, ids: list[str]) -> dict[str, pb.Account]:
    response = await ledger.LookupAccounts(pb.LookupAccountsRequest(ids=ids))
    return {account.id: account for account in response.accounts}

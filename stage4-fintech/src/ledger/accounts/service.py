"""Opening accounts (idempotently, by the id the client chose) and reading them."""

import re
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.accounts.repository import AccountState, insert_accounts, read_accounts
from ledger.errors import Reason, Rejected
from ledger.outcomes import Outcome

CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class NewAccount:
    id: str
    currency: str
    must_not_go_negative: bool


@dataclass(frozen=True)
class AccountResult:
    outcome: Outcome
    account: AccountState


def parse_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Rejected(Reason.INVALID_ID, f"{value!r} is not a UUID") from None


async def create_accounts(
    connection: AsyncConnection, requests: list[NewAccount]
) -> list[AccountResult]:
    """Opens every account, or none: a bad one raises `Rejected`. An id already holding
    the same account is `exists`; holding another one, `ID_REUSED`."""
    new = []
    for request in requests:
        if not CURRENCY.fullmatch(request.currency):
            raise Rejected(Reason.INVALID_CURRENCY, f"{request.currency!r} is not an ISO 4217 code")
        new.append(
            AccountState(
                id=parse_id(request.id),
                currency=request.currency,
                must_not_go_negative=request.must_not_go_negative,
                balance=0,
                pending_debits=0,
                pending_credits=0,
                version=0,
            )
        )
    inserted = await insert_accounts(connection, new)
    stored = {a.id: a for a in await read_accounts(connection, [a.id for a in new])}
    results = []
    answered: set[uuid.UUID] = set()
    for account in new:
        found = stored[account.id]
        if (found.currency, found.must_not_go_negative) != (
            account.currency,
            account.must_not_go_negative,
        ):
            raise Rejected(Reason.ID_REUSED, f"account {account.id} exists with other settings")
        # An id named twice in one request was created once: by its first mention.
        created = account.id in inserted and account.id not in answered
        answered.add(account.id)
        results.append(AccountResult(Outcome.CREATED if created else Outcome.EXISTS, found))
    return results

"""Moving money: the rules of a transfer, one at a time or a batch in one transaction, and
the life of a pending transfer (post, void, expire), each exactly once.

Every function here runs inside a transaction the caller opened
(`ledger.transactions.run_in_transaction`) and leaves the commit to it."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.accounts.repository import AccountState, lock_accounts, save_accounts
from ledger.accounts.service import parse_id
from ledger.errors import Reason, Rejected, RetryTransaction
from ledger.outcomes import Outcome
from ledger.transfers.repository import (
    EntryValues,
    TransferRow,
    database_now,
    find_transfers,
    finish_transfer,
    insert_entries,
    insert_transfers,
)

MAX_TIMEOUT_SECONDS = 7 * 24 * 3600
# What a bigint column holds. Python's integers never overflow, PostgreSQL's do: a total
# past these bounds is refused here, for that transfer alone, not by a failed commit
# that would take the whole batch with it.
SMALLEST, LARGEST = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class NewTransfer:
    id: str
    debit_account_id: str
    credit_account_id: str
    amount: int
    currency: str
    pending: bool = False
    timeout_seconds: int = 0


@dataclass(frozen=True)
class TransferResult:
    outcome: Outcome
    transfer: TransferRow | None = None
    reason: Reason | None = None
    detail: str = ""


def rejected(error: Rejected) -> TransferResult:
    return TransferResult(Outcome.REJECTED, reason=error.reason, detail=error.detail)


def checked(request: NewTransfer) -> TransferRow:
    """The transfer, if it is well formed on its own (before any account is read)."""
    transfer = TransferRow(
        id=parse_id(request.id),
        debit_account_id=parse_id(request.debit_account_id),
        credit_account_id=parse_id(request.credit_account_id),
        amount=request.amount,
        currency=request.currency,
        two_phase=request.pending,
        timeout_seconds=request.timeout_seconds,
        state="pending" if request.pending else "posted",
        posted_amount=0 if request.pending else request.amount,
        expires_at=None,
    )
    if transfer.amount <= 0:
        raise Rejected(Reason.INVALID_AMOUNT, f"the amount must be positive, not {request.amount}")
    if transfer.debit_account_id == transfer.credit_account_id:
        raise Rejected(Reason.SAME_ACCOUNT, "a transfer needs two different accounts")
    if transfer.two_phase and not 0 < transfer.timeout_seconds <= MAX_TIMEOUT_SECONDS:
        raise Rejected(
            Reason.INVALID_TIMEOUT,
            f"a pending transfer needs a timeout of 1 to {MAX_TIMEOUT_SECONDS} seconds",
        )
    if not transfer.two_phase and transfer.timeout_seconds:
        raise Rejected(Reason.INVALID_TIMEOUT, "only a pending transfer has a timeout")
    return transfer


def same_request(stored: TransferRow, new: TransferRow) -> bool:
    """A retry sends the very same transfer; the same id for anything else is a client bug."""
    keys = ("debit_account_id", "credit_account_id", "amount", "currency", "two_phase")
    return all(getattr(stored, key) == getattr(new, key) for key in keys) and (
        stored.timeout_seconds == new.timeout_seconds
    )


def within_limits(*totals: int) -> None:
    for total in totals:
        if not SMALLEST <= total <= LARGEST:
            raise Rejected(Reason.LIMIT_EXCEEDED, f"a total of {total} is past what is stored")


class Batch:
    """The transfers of one request, applied in order to accounts locked once, up front."""

    def __init__(self, accounts: dict[uuid.UUID, AccountState]) -> None:
        self.accounts = accounts
        self.touched: dict[uuid.UUID, AccountState] = {}
        self.transfers: list[TransferRow] = []
        self.entries: list[EntryValues] = []

    def account(self, account_id: uuid.UUID, currency: str) -> AccountState:
        account = self.accounts.get(account_id)
        if account is None:
            raise Rejected(Reason.ACCOUNT_NOT_FOUND, f"no account {account_id}")
        if account.currency != currency:
            raise Rejected(
                Reason.CURRENCY_MISMATCH,
                f"account {account_id} holds {account.currency}, not {currency}",
            )
        return account

    def apply(self, transfer: TransferRow) -> None:
        debit = self.account(transfer.debit_account_id, transfer.currency)
        credit = self.account(transfer.credit_account_id, transfer.currency)
        if debit.must_not_go_negative and debit.available < transfer.amount:
            raise Rejected(
                Reason.INSUFFICIENT_FUNDS,
                f"account {debit.id} has {debit.available} available, not {transfer.amount}",
            )
        if transfer.two_phase:
            within_limits(debit.pending_debits + transfer.amount)
            within_limits(credit.pending_credits + transfer.amount)
            self.reserve(debit, credit, transfer.amount)
        else:
            within_limits(debit.balance - transfer.amount, credit.balance + transfer.amount)
            self.move(transfer.id, debit, credit, transfer.amount)
        self.transfers.append(transfer)

    def reserve(self, debit: AccountState, credit: AccountState, amount: int) -> None:
        debit.pending_debits += amount
        credit.pending_credits += amount
        self.changed(debit)
        self.changed(credit)

    def release(self, debit: AccountState, credit: AccountState, amount: int) -> None:
        debit.pending_debits -= amount
        credit.pending_credits -= amount
        self.changed(debit)
        self.changed(credit)

    def move(
        self, transfer_id: uuid.UUID, debit: AccountState, credit: AccountState, amount: int
    ) -> None:
        """Double entry: the same amount leaves one account and enters the other."""
        for account, signed in ((debit, -amount), (credit, amount)):
            before = account.balance
            account.balance += signed
            self.changed(account)
            self.entries.append(
                (
                    transfer_id,
                    account.id,
                    account.currency,
                    signed,
                    before,
                    account.balance,
                    account.version,
                )
            )

    def changed(self, account: AccountState) -> None:
        account.version += 1
        self.touched[account.id] = account

    async def save(self, connection: AsyncConnection) -> None:
        # Transfers first: the entries refer to them.
        if await insert_transfers(connection, self.transfers) != len(self.transfers):
            # Another transaction stored one of these ids after this one looked: start
            # again, and this time it is seen (and compared) as an existing transfer.
            raise RetryTransaction
        await insert_entries(connection, self.entries)
        await save_accounts(connection, self.touched.values())


async def create_transfers(
    connection: AsyncConnection, requests: list[NewTransfer]
) -> list[TransferResult]:
    """Each transfer gets its own result, in request order; those rejected store nothing,
    and do not stop the others."""
    results: list[TransferResult | None] = [None] * len(requests)
    wellformed: list[tuple[int, TransferRow]] = []
    for index, request in enumerate(requests):
        try:
            wellformed.append((index, checked(request)))
        except Rejected as error:
            results[index] = rejected(error)

    account_ids = {t.debit_account_id for _, t in wellformed} | {
        t.credit_account_id for _, t in wellformed
    }
    # The accounts' locks, taken before looking for existing transfers: a retry of a
    # transfer still in flight waits here until it has committed, and then sees it.
    batch = Batch(await lock_accounts(connection, account_ids))
    known = await find_transfers(connection, [transfer.id for _, transfer in wellformed])
    now = await database_now(connection) if any(t.two_phase for _, t in wellformed) else None
    for index, transfer in wellformed:
        results[index] = _create_one(batch, known, transfer, now)
    await batch.save(connection)
    return [result for result in results if result is not None]


def _create_one(
    batch: Batch,
    known: dict[uuid.UUID, TransferRow],
    transfer: TransferRow,
    now: datetime | None,
) -> TransferResult:
    if (stored := known.get(transfer.id)) is not None:
        if same_request(stored, transfer):
            return TransferResult(Outcome.EXISTS, stored)
        return rejected(
            Rejected(Reason.ID_REUSED, f"transfer {transfer.id} exists with another body")
        )
    if transfer.two_phase and now is not None:
        transfer.expires_at = now + timedelta(seconds=transfer.timeout_seconds)
    try:
        batch.apply(transfer)
    except Rejected as error:
        return rejected(error)
    known[transfer.id] = transfer  # the same id again in this batch is a retry of this one
    return TransferResult(Outcome.CREATED, transfer)


async def finish_pending(
    connection: AsyncConnection, transfer_id: str, final_state: str, amount: int = 0
) -> TransferResult:
    """Posts (for `amount`, 0 meaning all of it), voids or expires a pending transfer.

    Under the locks of its accounts and then its own row, the transfer is read again: of
    many concurrent calls, the first finds it pending and finishes it, every later one
    finds it finished. Asking again for what was done (posting twice the same amount) is
    `exists`; asking for anything else is refused."""
    key = parse_id(transfer_id)
    found = (await find_transfers(connection, [key])).get(key)
    if found is None or not found.two_phase:
        raise Rejected(Reason.TRANSFER_NOT_FOUND, f"no pending transfer {transfer_id}")
    if amount < 0 or amount > found.amount:
        raise Rejected(Reason.INVALID_AMOUNT, f"post 1 to {found.amount}, or 0 for all of it")
    accounts = await lock_accounts(connection, [found.debit_account_id, found.credit_account_id])
    transfer = (await find_transfers(connection, [key], lock=True))[key]
    to_post = (amount or transfer.amount) if final_state == "posted" else 0

    if transfer.state != "pending":
        if transfer.state == final_state and transfer.posted_amount == to_post:
            return TransferResult(Outcome.EXISTS, transfer)
        if transfer.state == "expired":
            # Told apart from NOT_PENDING: an expired transfer released its funds, a posted
            # one moved them, and a caller voiding (or posting) must know which.
            raise Rejected(Reason.EXPIRED, f"transfer {transfer_id} expired")
        raise Rejected(Reason.NOT_PENDING, f"transfer {transfer_id} was already {transfer.state}")
    expiring = final_state == "expired"
    if (
        not expiring
        and transfer.expires_at
        and transfer.expires_at <= await database_now(connection)
    ):
        raise Rejected(Reason.EXPIRED, f"transfer {transfer_id} expired")

    batch = Batch(accounts)
    debit, credit = accounts[transfer.debit_account_id], accounts[transfer.credit_account_id]
    if to_post:
        within_limits(debit.balance - to_post, credit.balance + to_post)
    batch.release(debit, credit, transfer.amount)
    if to_post:
        batch.move(transfer.id, debit, credit, to_post)
    await batch.save(connection)
    await finish_transfer(connection, transfer.id, final_state, to_post)
    transfer.state, transfer.posted_amount = final_state, to_post
    return TransferResult(Outcome.CREATED, transfer)

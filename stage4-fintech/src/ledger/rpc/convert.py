"""Between the contract's messages (ledger.v1, generated) and the ledger's own types."""

from ledger.accounts.repository import AccountState
from ledger.accounts.service import NewAccount
from ledger.errors import Reason
from ledger.outcomes import Outcome
from ledger.transfers.repository import TransferRow
from ledger.transfers.service import NewTransfer, TransferResult
from ledger.v1 import ledger_pb2 as pb

OUTCOMES = {
    Outcome.CREATED: pb.OUTCOME_CREATED,
    Outcome.EXISTS: pb.OUTCOME_EXISTS,
    Outcome.REJECTED: pb.OUTCOME_REJECTED,
}
STATES = {
    "pending": pb.TRANSFER_STATE_PENDING,
    "posted": pb.TRANSFER_STATE_POSTED,
    "voided": pb.TRANSFER_STATE_VOIDED,
    "expired": pb.TRANSFER_STATE_EXPIRED,
}


def new_account(message: pb.NewAccount) -> NewAccount:
    return NewAccount(message.id, message.currency, message.must_not_go_negative)


def new_transfer(message: pb.NewTransfer) -> NewTransfer:
    return NewTransfer(
        id=message.id,
        debit_account_id=message.debit_account_id,
        credit_account_id=message.credit_account_id,
        amount=message.amount,
        currency=message.currency,
        pending=message.pending,
        timeout_seconds=message.timeout_seconds,
    )


def account(state: AccountState) -> pb.Account:
    return pb.Account(
        id=str(state.id),
        currency=state.currency,
        must_not_go_negative=state.must_not_go_negative,
        balance=state.balance,
        pending_debits=state.pending_debits,
        pending_credits=state.pending_credits,
        version=state.version,
    )


def transfer(row: TransferRow) -> pb.Transfer:
    return pb.Transfer(
        id=str(row.id),
        debit_account_id=str(row.debit_account_id),
        credit_account_id=str(row.credit_account_id),
        amount=row.amount,
        currency=row.currency,
        state=STATES[row.state],
        posted_amount=row.posted_amount,
        expires_at_unix_ms=round(row.expires_at.timestamp() * 1000) if row.expires_at else 0,
    )


def reason(value: Reason) -> "pb.Reason.ValueType":
    return pb.Reason.Value(f"REASON_{value.value}")


def transfer_result(result: TransferResult) -> pb.TransferResult:
    # One constructor call (None and 0 leave a field unset): a batch answers up to thousands of
    # these, and setting a message field afterwards would copy the transfer again.
    return pb.TransferResult(
        outcome=OUTCOMES[result.outcome],
        reason=pb.REASON_UNSPECIFIED if result.reason is None else reason(result.reason),
        detail=result.detail,
        transfer=None if result.transfer is None else transfer(result.transfer),
    )

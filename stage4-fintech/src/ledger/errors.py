"""What the ledger refuses, and why: one reason per rule, named as in the contract."""

from enum import StrEnum


class Reason(StrEnum):
    INVALID_ID = "INVALID_ID"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    SAME_ACCOUNT = "SAME_ACCOUNT"
    ACCOUNT_NOT_FOUND = "ACCOUNT_NOT_FOUND"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    ID_REUSED = "ID_REUSED"
    INVALID_TIMEOUT = "INVALID_TIMEOUT"
    # Posting or voiding a pending transfer.
    TRANSFER_NOT_FOUND = "TRANSFER_NOT_FOUND"
    NOT_PENDING = "NOT_PENDING"
    EXPIRED = "EXPIRED"
    # A balance or a pending total would leave the range the database stores (64 bits).
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    INVALID_CURRENCY = "INVALID_CURRENCY"


class Rejected(Exception):
    """A request the ledger refuses; nothing it asked for was stored."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class RetryTransaction(Exception):
    """The transaction met another one and must run again from the start (see
    `ledger.transactions.run_in_transaction`)."""

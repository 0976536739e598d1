"""The ledger's tables. Money is never updated in place: a transfer appends entries, and an
account's balance is a running total that each entry records before and after.

The rules PostgreSQL enforces by itself, whatever code writes (see the migration):
- an entry can be neither updated nor deleted (a trigger);
- the entries of one transfer sum to zero per currency, checked once per statement for
  every transfer it wrote entries of (a statement trigger), so a transfer's entries are
  written together, in one statement;
- `balance_after = balance_before + amount` on every entry, a positive amount on every
  transfer, a balance never below zero on an account that must not go negative (CHECKs);
- no two entries of an account carry the same version of it (a unique constraint), so two
  writers that both read version n cannot both append to its history;
- an entry is in its account's currency, and a transfer in the currency of both its
  accounts (foreign keys on the account's id and currency together).
"""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from roadmap_shared.database import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(
            "NOT must_not_go_negative OR balance - pending_debits >= 0", name="not_negative"
        ),
        CheckConstraint("pending_debits >= 0 AND pending_credits >= 0", name="pending_positive"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
        # The id is unique already: this is what the currency foreign keys of transfers
        # and entries refer to, so that their currency must be the account's.
        UniqueConstraint("id", "currency"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    must_not_go_negative: Mapped[bool]
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_debits: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_credits: Mapped[int] = mapped_column(BigInteger, default=0)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Transfer(Base):
    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="two_accounts"),
        CheckConstraint("posted_amount BETWEEN 0 AND amount", name="posted_within_amount"),
        CheckConstraint("state IN ('pending', 'posted', 'voided', 'expired')", name="known_state"),
        ForeignKeyConstraint(
            ["debit_account_id", "currency"], ["accounts.id", "accounts.currency"]
        ),
        ForeignKeyConstraint(
            ["credit_account_id", "currency"], ["accounts.id", "accounts.currency"]
        ),
        # The expirer's question: which pending transfers are due?
        Index(
            "ix_transfers_pending_expires_at", "expires_at", postgresql_where="state = 'pending'"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # chosen by the client
    debit_account_id: Mapped[uuid.UUID]
    credit_account_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # Two-phase: reserved now, posted or voided later, or expired `timeout_seconds` after.
    two_phase: Mapped[bool]
    timeout_seconds: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(8))
    posted_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Entry(Base):
    __tablename__ = "entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("balance_after = balance_before + amount", name="balance_follows"),
        ForeignKeyConstraint(["account_id", "currency"], ["accounts.id", "accounts.currency"]),
        # Each change of an account (an entry, a reservation) takes the next version: an
        # entry records the one it made.
        UniqueConstraint("account_id", "account_version"),
        Index("ix_entries_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    transfer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("transfers.id"), index=True)
    account_id: Mapped[uuid.UUID]
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)  # a credit is positive, a debit negative
    balance_before: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    account_version: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

import uuid
from datetime import datetime

from pydantic import BaseModel


class AccountPublic(BaseModel):
    id: uuid.UUID
    currency: str
    must_not_go_negative: bool
    balance: int
    pending_debits: int
    pending_credits: int
    version: int


class EntryPublic(BaseModel):
    id: int
    transfer_id: uuid.UUID
    amount: int
    balance_before: int
    balance_after: int
    account_version: int
    created_at: datetime


class EntryPage(BaseModel):
    items: list[EntryPublic]
    # Pass as `before` for the next (older) page; null on the last one.
    next_before: int | None

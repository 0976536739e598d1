import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from payments.models import PaymentKind, PaymentStatus

# Minor units (cents), and strictly an integer: "10" or 10.0 is refused rather than read
# as an amount the client may not have meant. The upper bound is a setting
# (PAYMENTS_MAX_AMOUNT), checked in the handler; this one keeps the number one that every
# JSON parser reads exactly.
Amount = Annotated[
    StrictInt, Field(gt=0, le=2**53, description="Minor units (cents), a positive integer")
]


class TopUpRequest(BaseModel):
    amount: Amount


class TransferRequest(BaseModel):
    to_wallet_id: uuid.UUID = Field(description="The recipient's wallet id")
    amount: Amount


class PayoutRequest(BaseModel):
    amount: Amount


class PaymentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: PaymentKind
    status: PaymentStatus = Field(
        description="new (the ledger not reached yet: retry with the same key), pending "
        "(funds reserved, the fraud check decides), held (waiting for a reviewer), "
        "completed, or rejected"
    )
    amount: int
    currency: str
    debit_account_id: uuid.UUID = Field(description="The account the money leaves")
    credit_account_id: uuid.UUID = Field(description="The account it goes to")
    reason: str | None = Field(description="Why it was held or rejected")
    created_at: datetime
    updated_at: datetime

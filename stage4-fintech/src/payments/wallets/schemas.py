import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class WalletPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="Give it to whoever sends you money")
    currency: str
    created_at: datetime


class WalletBalance(WalletPublic):
    balance: int = Field(description="Minor units (cents) the wallet holds")
    reserved: int = Field(description="Held by transfers and payouts not yet completed")
    available: int = Field(description="What can be spent now: balance minus reserved")

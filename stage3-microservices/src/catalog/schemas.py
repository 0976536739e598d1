"""Types and schemas more than one domain uses."""

from pydantic import BaseModel, Field


class Money(BaseModel):
    """An amount in the currency's minor unit: `{"amount": 1999, "currency": "EUR"}` is
    19.99 euros. Integers, so no client or server ever rounds a float."""

    amount: int = Field(examples=[1999])
    currency: str = Field(examples=["EUR"], pattern=r"^[A-Z]{3}$")

"""Types and schemas more than one domain uses."""

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field

# Primary keys are BIGINT: a larger number would reach PostgreSQL and fail there as a 500,
# so it is refused at the edge as a 422 like any other invalid input.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


class Money(BaseModel):
    """An amount in the currency's minor unit: `{"amount": 1999, "currency": "EUR"}` is
    19.99 euros. Integers, so no client or server ever rounds a float."""

    amount: int = Field(examples=[1999])
    currency: str = Field(examples=["EUR"], pattern=r"^[A-Z]{3}$")

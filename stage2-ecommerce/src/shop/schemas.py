"""Types and schemas more than one domain uses."""

from pydantic import BaseModel, Field

from roadmap_shared.fields import BigIdPath, StoredBigId

# Primary keys are BIGINT: a larger number would reach PostgreSQL and fail there as a 500,
# so it is refused at the edge as a 422 like any other invalid input.
Id = StoredBigId
IdPath = BigIdPath


class Money(BaseModel):
    """An amount in the currency's minor unit: `{"amount": 1999, "currency": "EUR"}` is
    19.99 euros. Integers, so no client or server ever rounds a float."""

    amount: int = Field(examples=[1999])
    currency: str = Field(examples=["EUR"], pattern=r"^[A-Z]{3}$")

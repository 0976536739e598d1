from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from catalog.models import Reservation, ReservationStatus
from roadmap_shared.fields import StoredBigId

# A checkout holds a few lines; the cap keeps one request from locking the whole catalogue.
MAX_LINES = 100
MAX_LINE_QUANTITY = 1000

# What a caller may use as a key: it appears in URLs and logs.
ReservationKey = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
]


class ReservationLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variant_id: StoredBigId
    quantity: int = Field(gt=0, le=MAX_LINE_QUANTITY)


class ReservationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[ReservationLineIn] = Field(min_length=1, max_length=MAX_LINES)

    @field_validator("lines")
    @classmethod
    def _one_line_per_variant(cls, lines: list[ReservationLineIn]) -> list[ReservationLineIn]:
        variants = [line.variant_id for line in lines]
        if len(set(variants)) != len(variants):
            raise ValueError("each variant may appear in one line only")
        return lines

    def quantities(self) -> dict[int, int]:
        return {line.variant_id: line.quantity for line in self.lines}


class ReservationLinePublic(BaseModel):
    variant_id: int
    quantity: int
    unit_price_amount: int
    currency: str
    product_name: str


class ReservationPublic(BaseModel):
    key: str
    status: ReservationStatus
    expires_at: datetime
    lines: list[ReservationLinePublic]


def reservation_public(reservation: Reservation) -> ReservationPublic:
    return ReservationPublic(
        key=reservation.key,
        status=reservation.status,
        expires_at=reservation.expires_at,
        lines=[
            ReservationLinePublic(
                variant_id=line.variant_id,
                quantity=line.quantity,
                unit_price_amount=line.unit_price_amount,
                currency=line.currency,
                product_name=line.product_name,
            )
            for line in reservation.lines
        ],
    )

"""Building blocks for the RealWorld JSON shapes: camelCase names and timestamps with
milliseconds (`2016-02-18T03:22:56.637Z`), which the API test collection checks for."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel


def _spec_timestamp(moment: datetime) -> str:
    # isoformat() drops the fraction when it is zero; the collection's pattern requires it.
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Timestamp = Annotated[datetime, PlainSerializer(_spec_timestamp, return_type=str)]


class SpecModel(BaseModel):
    """Python names in snake_case, JSON names in camelCase (`tag_list` is `tagList`).

    Unknown fields are ignored, not refused: several published front ends send back the
    whole object they received (with `slug`, `createdAt`...) when they update it.
    """

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

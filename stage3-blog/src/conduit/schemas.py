"""Building blocks for the RealWorld JSON shapes: camelCase names and timestamps with
milliseconds (`2016-02-18T03:22:56.637Z`), which the API test collection checks for."""

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    GetJsonSchemaHandler,
    PlainSerializer,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from roadmap_shared.fields import STORABLE, STORABLE_NOT_BLANK, StoredText

# Text that ends up in PostgreSQL (which cannot store NUL): refused at the edge, and
# documented as such. Path and query parameters that are looked up use it too. A type
# with constraints puts `STORABLE` after them, so that it checks the stripped text.
Text = StoredText
__all__ = [
    "STORABLE",
    "STORABLE_NOT_BLANK",
    "TRIMMED",
    "PartialUpdate",
    "SpecModel",
    "Text",
    "Timestamp",
]


def _trimmed(value: str) -> str:
    trimmed = value.strip()
    if not trimmed:
        raise ValueError("can't be blank")
    return trimmed


# Text whose surrounding whitespace is dropped and which must not be blank, after a
# `Field(max_length=...)`: that limit counts the characters as the client sent them,
# which is what the document's `maxLength` says, and the stored text, trimmed, is never
# longer, so a column sized to the limit always holds it. Then `STORABLE_NOT_BLANK`. The
# trimming is Python's `str.strip()`, the whitespace the not-blank pattern names.
TRIMMED = AfterValidator(_trimmed)


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


class PartialUpdate(SpecModel):
    """The body of an update: fields left out stay as they are, and at least one must be
    sent. Null clears only the fields in `clearable` (a bio, an image); for the others it
    is refused as blank, since every article has a title and every account an email. The
    OpenAPI document says all three things, so a client can know what will be accepted.
    """

    clearable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.clearable:
            raise ValueError("can't be blank")
        return value

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        clearable_aliases = {to_camel(name) for name in cls.clearable}
        for alias, field_schema in schema["properties"].items():
            if alias in clearable_aliases:
                continue
            field_schema.pop("default", None)
            not_null = [s for s in field_schema.pop("anyOf", []) if s.get("type") != "null"]
            if len(not_null) == 1:
                field_schema.update(not_null[0])
        schema["minProperties"] = 1
        return schema

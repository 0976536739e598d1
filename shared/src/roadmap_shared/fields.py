"""Field types for request data that ends up in PostgreSQL.

Input the database would refuse must be refused at the edge, as a 422 that names the
field, not discovered by the database as a 500:

- PostgreSQL text cannot hold the NUL character, nor a lone UTF-16 surrogate (JSON can
  spell one, `"\\ud800"`, and Python keeps it in a `str`, but it has no UTF-8 form).
- An `integer` column holds at most 2**31 - 1 (a `bigint`, 2**63 - 1); asyncpg refuses a
  larger parameter before the query is even sent.
"""

from typing import Annotated, Any

from fastapi import Path
from pydantic import Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

MAX_INT32 = 2**31 - 1
MIN_INT64 = -(2**63)
MAX_INT64 = 2**63 - 1


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text (a lone surrogate is not)") from exc
    return value


# What the OpenAPI document says of such text, so that clients know what is refused.
NO_NUL_PATTERN = "^[^\\x00]*$"
# The same for text that is stripped and must not be empty: at least one character that
# Python's `str.strip()` keeps. (Spelled out: JSON Schema's `\s` is ECMAScript's, which
# differs from Python's on U+001C-U+001F, U+0085 and U+FEFF.)
_PYTHON_WHITESPACE = (
    "\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000"
)
NOT_BLANK_PATTERN = f"^[^\\x00]*[^\\x00{_PYTHON_WHITESPACE}][^\\x00]*$"


class Storable:
    """`Annotated` metadata: the text must be storable (checked after any constraints
    before it, such as stripping), and the document says so with a pattern."""

    def __init__(self, pattern: str = NO_NUL_PATTERN) -> None:
        self.pattern = pattern

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_storable, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", self.pattern)
        return json_schema


STORABLE = Storable()
# After `StringConstraints(strip_whitespace=True, min_length=1)`: documents "not blank" too.
STORABLE_NOT_BLANK = Storable(NOT_BLANK_PATTERN)
StoredText = Annotated[str, STORABLE]
# An id in a body or query string, for `integer` primary keys.
StoredId = Annotated[int, Field(ge=1, le=MAX_INT32)]
# The same for a path parameter: `/tasks/{task_id}`.
IdPath = Annotated[int, Path(ge=1, le=MAX_INT32)]
# The same two for `bigint` primary keys.
StoredBigId = Annotated[int, Field(ge=1, le=MAX_INT64)]
BigIdPath = Annotated[int, Path(ge=1, le=MAX_INT64)]

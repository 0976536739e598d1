"""Field types for request data that ends up in PostgreSQL.

Input the database would refuse must be refused at the edge, as a 422 that names the
field, not discovered by the database as a 500:

- PostgreSQL text cannot hold the NUL character, nor a lone UTF-16 surrogate (JSON can
  spell one, `"\\ud800"`, and Python keeps it in a `str`, but it has no UTF-8 form).
- An `integer` column holds at most 2**31 - 1 (a `bigint`, 2**63 - 1); asyncpg refuses a
  larger parameter before the query is even sent.
"""

from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, Field

MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text (a lone surrogate is not)") from exc
    return value


StoredText = Annotated[str, AfterValidator(_storable)]
# An id in a body or query string, for `integer` primary keys.
StoredId = Annotated[int, Field(ge=1, le=MAX_INT32)]
# The same for a path parameter: `/tasks/{task_id}`.
IdPath = Annotated[int, Path(ge=1, le=MAX_INT32)]
# The same two for `bigint` primary keys.
StoredBigId = Annotated[int, Field(ge=1, le=MAX_INT64)]
BigIdPath = Annotated[int, Path(ge=1, le=MAX_INT64)]

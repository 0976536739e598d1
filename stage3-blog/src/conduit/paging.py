"""`limit` and `offset`, as the RealWorld spec pages its lists, with ceilings of our own."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

MAX_LIMIT = 100
# Deep offsets are slow and nobody pages that far; the bound also keeps the value in range
# for PostgreSQL (a larger one would fail in the database, as a 500).
MAX_OFFSET = 1_000_000
DEFAULT_LIMIT = 20  # the spec's default

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")]


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int


async def paging(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Paging:
    return Paging(limit=limit, offset=offset)


PagingDep = Annotated[Paging, Depends(paging)]

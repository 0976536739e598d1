"""Page types for list endpoints: a capped page size, a total or a next cursor, never unbounded.

Offset pages (`Page`) suit admin screens that jump to page N; cursor pages (`CursorPage`)
suit feeds and long lists, where an offset gets slower and skips rows under concurrent writes.
Either way the query must order by a unique key (add the primary key as a tie-breaker).
"""

import base64
import binascii
import json
import math
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict

from roadmap_shared.errors import BadRequest

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# Deep offsets are slow (the database reads and discards every skipped row) and an offset
# past PostgreSQL's bigint is an error; a list that long wants a cursor instead.
MAX_PAGE = 10_000

T = TypeVar("T")


class PageParams(BaseModel):
    model_config = ConfigDict(frozen=True)

    page: int = 1
    size: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


async def page_params(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page")] = (
        DEFAULT_PAGE_SIZE
    ),
) -> PageParams:
    return PageParams(page=page, size=size)


PageParamsDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int
    pages: int

    @classmethod
    def of(cls, items: list[T], *, total: int, params: PageParams) -> "Page[T]":
        return cls(
            items=items,
            total=total,
            page=params.page,
            size=params.size,
            pages=math.ceil(total / params.size) if total else 0,
        )


class CursorPage(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(position: dict[str, Any]) -> str:
    """An opaque cursor: the sort key of the last item the client has seen."""
    raw = json.dumps(position, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    invalid = BadRequest("The cursor is not valid; use `next_cursor` from a previous page.")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise invalid from exc
    if not isinstance(position, dict):
        raise invalid
    return position

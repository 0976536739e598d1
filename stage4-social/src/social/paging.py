"""Cursor pages for every list of this stage: newest (or oldest) first by a unique,
increasing id, so a page is one index range scan and pages never overlap or skip rows
when others write in between. The cursor is the id of the last item seen, opaque to
clients (roadmap_shared.pagination encodes it); a forged one is a 400, never a 500."""

from typing import Annotated

from pydantic import BaseModel, Field, ValidationError

from roadmap_shared.errors import BadRequest
from roadmap_shared.fields import StoredBigId
from roadmap_shared.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    decode_cursor,
    encode_cursor,
)


class CursorQuery(BaseModel):
    cursor: str | None = Field(
        default=None, max_length=200, description="`next_cursor` from the previous page"
    )
    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)

    def after_id(self) -> int | None:
        """The id the page starts after, or None for the first page."""
        if self.cursor is None:
            return None
        try:
            return _Position.model_validate(decode_cursor(self.cursor)).id
        except ValidationError as forged:
            raise BadRequest(
                "The cursor is not valid; use `next_cursor` from a previous page."
            ) from forged


class _Position(BaseModel):
    id: Annotated[StoredBigId, Field(strict=True)]


def cursor_at(item_id: int) -> str:
    return encode_cursor({"id": item_id})

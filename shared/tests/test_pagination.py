import pytest

from roadmap_shared.errors import BadRequest
from roadmap_shared.pagination import Page, PageParams, decode_cursor, encode_cursor


def test_a_cursor_round_trips() -> None:
    position = {"created_at": "2026-11-21T10:00:00+00:00", "id": 7}
    assert decode_cursor(encode_cursor(position)) == position


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", "WzEsMl0"])
def test_a_forged_cursor_is_a_bad_request(cursor: str) -> None:
    with pytest.raises(BadRequest):
        decode_cursor(cursor)


def test_a_page_knows_how_many_pages_there_are() -> None:
    page = Page[int].of([1, 2], total=5, params=PageParams(page=1, size=2))
    assert (page.pages, page.total, page.size) == (3, 5, 2)
    assert Page[int].of([], total=0, params=PageParams()).pages == 0

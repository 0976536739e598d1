import pytest
from fastapi import APIRouter
from httpx import ASGITransport, AsyncClient

from roadmap_shared.app import create_app
from roadmap_shared.errors import BadRequest
from roadmap_shared.pagination import (
    Page,
    PageParams,
    PageParamsDep,
    decode_cursor,
    encode_cursor,
)
from roadmap_shared.settings import AppSettings


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


async def test_page_and_size_are_bounded(settings: AppSettings) -> None:
    router = APIRouter()

    @router.get("/things")
    async def things(params: PageParamsDep) -> dict[str, int]:
        return {"offset": params.offset}

    app = create_app(settings, title="Pages", routers=[router])
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        for query in ["page=0", "page=10001", "size=0", "size=101", f"page={10**20}"]:
            assert (await client.get(f"/things?{query}")).status_code == 422, query
        assert (await client.get("/things?page=3&size=10")).json() == {"offset": 20}

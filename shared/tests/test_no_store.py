"""Responses with someone's own data are never kept by a cache."""

from fastapi import APIRouter
from httpx import ASGITransport, AsyncClient

from roadmap_shared.app import create_app
from roadmap_shared.dependencies import NO_STORE
from roadmap_shared.settings import AppSettings
from roadmap_shared.testing.no_store import assert_may_be_stored, assert_no_store

router = APIRouter()


@router.get("/public")
async def public() -> dict[str, str]:
    return {"hello": "world"}


@router.post("/sign-in", dependencies=[NO_STORE])
async def sign_in() -> dict[str, str]:
    return {"token": "secret"}


async def test_a_request_with_credentials_gets_no_store_on_any_route(
    settings: AppSettings,
) -> None:
    app = create_app(settings, title="No store", routers=[router])
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        for path in ("/public", "/nowhere", "/healthz"):
            response = await client.get(path, headers={"Authorization": "Bearer x"})
            assert_no_store(response)
        assert_may_be_stored(await client.get("/public"))


async def test_a_route_marked_no_store_is_never_stored(settings: AppSettings) -> None:
    app = create_app(settings, title="No store", routers=[router])
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        response = await client.post("/sign-in")
    assert_no_store(response)

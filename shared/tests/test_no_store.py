"""Responses with someone's own data are never kept by a cache."""

from fastapi import APIRouter
from httpx import ASGITransport, AsyncClient

from roadmap_shared.app import create_app
from roadmap_shared.dependencies import NO_STORE
from roadmap_shared.settings import AppSettings

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
            assert response.headers["Cache-Control"] == "no-store", path
        assert "Cache-Control" not in (await client.get("/public")).headers


async def test_a_route_marked_no_store_is_never_stored(settings: AppSettings) -> None:
    app = create_app(settings, title="No store", routers=[router])
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        response = await client.post("/sign-in")
    assert response.headers["Cache-Control"] == "no-store"

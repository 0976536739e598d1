"""What `create_app(resources=...)` wires for a stage: state, shutdown, readiness, operation ids."""

from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI
from httpx import ASGITransport, AsyncClient

from roadmap_shared.app import create_app
from roadmap_shared.database import Database
from roadmap_shared.resources import AppResources
from roadmap_shared.settings import AppSettings


async def test_the_app_keeps_the_settings_and_the_database_where_dependencies_look(
    settings: AppSettings, database_url: str, redis_url: str
) -> None:
    resources = AppResources(Database(database_url), redis_url=redis_url)
    app = create_app(settings, title="Wired", resources=resources)
    assert app.state.settings is settings
    assert app.state.database is resources.database


async def test_shutdown_closes_what_a_stage_added_before_the_services_it_may_use(
    settings: AppSettings, database_url: str, redis_url: str
) -> None:
    closed: list[str] = []
    resources = AppResources(Database(database_url), redis_url=redis_url)

    async def close_storage() -> None:
        # The services are still open while the stage's own client shuts down.
        await resources.database.ping()
        await resources.redis.ping()
        closed.append("storage")

    resources.close_at_shutdown(close_storage)
    async with LifespanManager(create_app(settings, title="Wired", resources=resources)):
        pass
    assert closed == ["storage"]
    # The connection the ping above returned to the pool was closed with the engine.
    assert resources.database.engine.pool.checkedin() == 0  # type: ignore[attr-defined]


async def test_readiness_reports_both_services(
    settings: AppSettings, database_url: str, redis_url: str
) -> None:
    resources = AppResources(Database(database_url), redis_url=redis_url)
    app = create_app(settings, title="Wired", resources=resources)
    async with (
        LifespanManager(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        response = await client.get("/readyz")
    assert response.json() == {"status": "ready", "checks": {"postgres": "ok", "redis": "ok"}}


def test_operation_ids_are_the_tag_and_the_function_name(settings: AppSettings) -> None:
    router = APIRouter(prefix="/orders", tags=["Orders administration"])

    @router.get("")
    async def list_orders() -> list[int]:
        return []

    app: FastAPI = create_app(settings, title="Ids", routers=[router])
    operations = {
        path: operation["operationId"]
        for path, item in app.openapi()["paths"].items()
        for operation in item.values()
    }
    assert operations["/orders"] == "orders_administration-list_orders"
    assert operations["/healthz"] == "health-healthz"

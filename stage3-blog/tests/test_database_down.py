"""A database outage is a 503 problem with Retry-After, under /api too (503 is not a status
the spec defines). The blog handles DBAPIError itself (text PostgreSQL cannot store is a
client error); every other database error must still reach the shared outage mapping.
The outage itself (a killed, a hung PostgreSQL) is exercised in the shared suite."""

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.exc import DBAPIError

PATH = "/api/test-only/database-gone"


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    async def lose_the_connection() -> None:
        raise DBAPIError("SELECT 1", None, ConnectionResetError(), connection_invalidated=True)

    app.add_api_route(PATH, lose_the_connection)
    return app


async def test_a_lost_database_connection_is_503_with_retry_after(client: AsyncClient) -> None:
    response = await client.get(PATH)

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0

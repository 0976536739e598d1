"""The OpenAPI document `create_app` serves: what it states must be what the server does."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Query
from httpx import ASGITransport, AsyncClient
from pydantic import BaseModel, Field

from roadmap_shared.app import create_app
from roadmap_shared.errors import NotFound, problem_responses
from roadmap_shared.fields import MAX_INT32, MAX_INT64, MIN_INT64, BigIdPath, StoredBigId, StoredId
from roadmap_shared.settings import AppSettings

router = APIRouter()


class Transfer(BaseModel):
    account_id: StoredBigId
    branch_id: StoredId
    cents: int = Field(ge=MIN_INT64, le=MAX_INT64)


@router.post("/accounts/{account_id}/transfers", status_code=201)
async def transfer(
    account_id: BigIdPath,
    body: Transfer,
    offset: Annotated[int, Query(ge=0, le=MAX_INT64)] = 0,
) -> dict[str, int]:
    return {"account_id": account_id}


@pytest.fixture
async def client(settings: AppSettings) -> AsyncIterator[AsyncClient]:
    app = create_app(settings, title="Bounds", routers=[router])
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield client


async def document(client: AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    return schema


async def test_integer_bounds_in_bodies_are_the_exact_ones_the_server_enforces(
    client: AsyncClient,
) -> None:
    properties = (await document(client))["components"]["schemas"]["Transfer"]["properties"]

    # Exact integers, not floats: as a float, 2**63 - 1 would read as 2**63.
    assert properties["account_id"]["maximum"] == MAX_INT64
    assert isinstance(properties["account_id"]["minimum"], int)
    assert properties["branch_id"]["maximum"] == MAX_INT32
    assert properties["cents"]["minimum"] == MIN_INT64
    assert properties["cents"]["maximum"] == MAX_INT64


async def test_integer_bounds_in_paths_and_queries_are_exact(client: AsyncClient) -> None:
    operation = (await document(client))["paths"]["/accounts/{account_id}/transfers"]["post"]
    bounds = {
        parameter["name"]: (parameter["schema"]["minimum"], parameter["schema"]["maximum"])
        for parameter in operation["parameters"]
    }

    assert bounds == {"account_id": (1, MAX_INT64), "offset": (0, MAX_INT64)}


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [
        ("account_id", MAX_INT64, 201),
        ("account_id", MAX_INT64 + 1, 422),
        ("cents", MIN_INT64, 201),
        ("cents", MIN_INT64 - 1, 422),
    ],
)
async def test_the_documented_bound_is_accepted_and_one_past_it_is_a_422(
    client: AsyncClient, field: str, value: int, status: int
) -> None:
    body = {"account_id": 1, "branch_id": 1, "cents": 0, field: value}
    response = await client.post("/accounts/1/transfers", json=body)

    operation = (await document(client))["paths"]["/accounts/{account_id}/transfers"]["post"]
    assert response.status_code == status
    assert "422" in operation["responses"]


async def test_each_error_status_has_its_own_problem_schema(settings: AppSettings) -> None:
    errors = APIRouter()

    @errors.get("/orders/{order_id}", responses=problem_responses(404, 409))
    async def get_order(order_id: BigIdPath) -> dict[str, int]:
        raise NotFound("no such order")

    app = create_app(settings, title="Problems", routers=[errors])
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        schema = await document(client)
        not_found = await client.get("/orders/1")

    responses = schema["paths"]["/orders/{order_id}"]["get"]["responses"]
    references = {
        status: response["content"]["application/problem+json"]["schema"]["$ref"]
        for status, response in responses.items()
        if status != "200"
    }
    assert references == {
        "404": "#/components/schemas/NotFoundProblem",
        "409": "#/components/schemas/ConflictProblem",
        "422": "#/components/schemas/UnprocessableContentProblem",
        "default": "#/components/schemas/Problem",
    }
    not_found_schema = schema["components"]["schemas"]["NotFoundProblem"]
    assert not_found_schema["allOf"] == [{"$ref": "#/components/schemas/Problem"}]
    assert not_found_schema["properties"]["status"] == {"const": 404}
    assert not_found.json()["status"] == 404

"""The two error shapes: the spec's under /api, problem details everywhere else."""

import re

import pytest
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.config import Settings
from conduit.models import Role
from tests.factories import auth, make_user

PROBLEM = "application/problem+json"


async def test_an_unknown_route_under_api_is_a_404_in_the_spec_shape(client: AsyncClient) -> None:
    response = await client.get("/api/nothing-here")

    assert response.status_code == 404
    assert response.json() == {"errors": {"body": ["Not Found"]}}


async def test_an_unknown_route_outside_api_is_a_problem(client: AsyncClient) -> None:
    response = await client.get("/nothing-here")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["title"] == "Not Found"


async def test_a_body_too_large_is_a_problem_even_under_api(client: AsyncClient) -> None:
    response = await client.post(
        "/api/users", content=b"x" * 2_000_000, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


async def test_a_method_the_spec_does_not_define_is_a_problem(client: AsyncClient) -> None:
    response = await client.patch("/api/tags")

    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM


async def test_health_endpoints_answer(client: AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"postgres": "ok", "redis": "ok"}


async def test_the_openapi_document_lists_the_spec_endpoints(client: AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    assert {"/api/users/login", "/api/articles/{slug}", "/api/tags"} <= set(paths)


async def test_the_openapi_document_shows_each_error_shape_where_it_applies(
    client: AsyncClient,
) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    def invalid_body(path: str, method: str) -> str:
        content = paths[path][method]["responses"]["422"]["content"]
        return str(next(iter(content.values()))["schema"]["$ref"])

    assert invalid_body("/api/users", "post").endswith("/GenericErrorModel")
    assert invalid_body("/admin/users/{username}/role", "put").endswith(
        "/UnprocessableContentProblem"
    )


async def test_every_api_operation_documents_its_spec_errors_as_json(client: AsyncClient) -> None:
    """Spec v2: under /api, each error status an operation really returns is documented
    with the spec's body and `application/json` (schemathesis checks the content type)."""
    paths = (await client.get("/openapi.json")).json()["paths"]

    def spec_statuses(path: str, method: str) -> set[str]:
        responses = paths[path][method]["responses"]
        return {
            status
            for status, response in responses.items()
            if "application/json" in response.get("content", {})
            and response["content"]["application/json"]["schema"]["$ref"].endswith(
                "/GenericErrorModel"
            )
        }

    assert spec_statuses("/api/users/login", "post") == {"401", "422"}
    assert spec_statuses("/api/users", "post") == {"409", "422"}
    assert spec_statuses("/api/user", "put") == {"401", "403", "409", "422"}
    assert spec_statuses("/api/articles/{slug}", "delete") == {"401", "403", "404", "422"}
    assert spec_statuses("/api/articles/{slug}/comments", "post") == {"401", "403", "404", "422"}
    assert spec_statuses("/api/articles", "get") == {"401", "422"}
    # Reading: a token is optional (`{}`), but a bad one is still a 401.
    assert paths["/api/articles"]["get"]["security"] == [{"Token": []}, {}]
    assert paths["/api/articles/feed"]["get"]["security"] == [{"Token": []}]
    # What the spec does not define stays a problem, the `default` response.
    default = paths["/api/articles"]["post"]["responses"]["default"]["content"]
    assert list(default) == ["application/problem+json"]


async def test_a_nul_character_anywhere_is_a_client_error_not_a_crash(
    client: AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db_session)

    in_body = await client.post(
        "/api/articles",
        json={"article": {"title": "a\u0000b", "description": "d", "body": "b"}},
        headers=auth(settings, author),
    )
    in_path = await client.get("/api/profiles/a%00b")
    admin = await make_user(db_session, role=Role.ADMIN)
    outside_api = await client.put("/admin/users/a%00b/suspension", headers=auth(settings, admin))

    # Refused at the edge, naming the field; the document's patterns exclude NUL too.
    assert (in_body.status_code, in_body.json()) == (422, {"errors": {"title": ["is invalid"]}})
    assert (in_path.status_code, in_path.json()) == (422, {"errors": {"username": ["is invalid"]}})
    assert outside_api.status_code == 422
    assert outside_api.headers["content-type"] == PROBLEM
    assert outside_api.json()["detail"] == "body must not contain NUL characters"


async def test_a_body_that_is_not_json_is_a_422_in_the_spec_shape(client: AsyncClient) -> None:
    response = await client.post(
        "/api/users", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json() == {"errors": {"body": ["is not valid JSON"]}}


@pytest.mark.parametrize(
    "body",
    [
        b'{"user": ' + b"[" * 5000 + b"]" * 5000 + b"}",  # deeper than the parser recurses
        b'{"user": "\xff"}',  # not UTF-8
    ],
)
async def test_json_the_parser_cannot_read_is_a_422_in_the_spec_shape(
    client: AsyncClient, body: bytes
) -> None:
    response = await client.post(
        "/api/users", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json() == {"errors": {"body": ["is not valid JSON"]}}


async def test_a_query_string_too_long_is_named_in_characters(client: AsyncClient) -> None:
    # `Query(max_length=...)` on an optional text reports a generic "too_long": for a
    # string the message is about characters, not items.
    response = await client.get("/api/articles", params={"tag": "x" * 41})

    assert response.status_code == 422
    assert response.json() == {"errors": {"tag": ["is too long (maximum is 40 characters)"]}}


async def test_the_document_refuses_the_blank_text_the_api_refuses(client: AsyncClient) -> None:
    # The API strips text and calls what is left empty "can't be blank"; a client (or a
    # fuzzer) reading the document must learn that whitespace alone is not a value.
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    patterns = [
        schemas["NewArticle"]["properties"]["title"]["pattern"],
        schemas["NewArticle"]["properties"]["tagList"]["items"]["pattern"],
        schemas["NewComment"]["properties"]["body"]["pattern"],
    ]
    blanks = [" ", "\t", "\n", "\r", "\x1c", "\x85", "\xa0", "\u2003", "\u3000", " \n "]
    for pattern in patterns:
        assert [blank for blank in blanks if re.search(pattern, blank)] == []
        assert re.search(pattern, " a ")
        assert not re.search(pattern, "a\x00")
    assert all(not blank.strip() for blank in blanks)  # what the API strips


@pytest.mark.parametrize("padding", [" ", "\x1c", "\u3000"])  # all whitespace to str.strip()
async def test_a_length_limit_counts_the_text_as_sent_as_the_document_says(
    client: AsyncClient, db_session: AsyncSession, settings: Settings, padding: str
) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    limit = schemas["NewArticle"]["properties"]["title"]["maxLength"]
    headers = auth(settings, await make_user(db_session, "writer"))

    async def post_title(title: str) -> Response:
        article = {"title": title, "description": "d", "body": "b"}
        return await client.post("/api/articles", json={"article": article}, headers=headers)

    over = await post_title(padding + "x" * limit)
    within = await post_title(padding + "x" * (limit - 1))
    blank = await post_title(padding)

    assert over.status_code == 422
    assert over.json() == {"errors": {"title": [f"is too long (maximum is {limit} characters)"]}}
    assert within.status_code == 201
    assert within.json()["article"]["title"] == "x" * (limit - 1)  # stored trimmed
    assert blank.json() == {"errors": {"title": ["can't be blank"]}}

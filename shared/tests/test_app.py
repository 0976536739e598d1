"""What every stage's app gets from `create_app`."""

import json
from collections.abc import AsyncIterator

import pytest
from fastapi import APIRouter, FastAPI
from httpx import ASGITransport, AsyncClient

from roadmap_shared.app import create_app
from roadmap_shared.middleware import SECURITY_HEADERS
from roadmap_shared.settings import AppSettings, Environment
from tests.conftest import ALLOWED_ORIGIN
from tests.sample_app.main import build_app

PROBLEM = "application/problem+json"


async def test_unknown_route_is_a_problem(client: AsyncClient) -> None:
    response = await client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Not Found",
    }


async def test_wrong_method_is_a_problem_naming_every_allowed_method(
    settings: AppSettings,
) -> None:
    router = APIRouter(prefix="/items")
    router.add_api_route("", lambda: [], methods=["GET"])
    router.add_api_route("", lambda: {}, methods=["POST"], status_code=201)
    app = create_app(settings, title="Methods", routers=[router])
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        response = await client.delete("/items")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["allow"] == "GET, HEAD, POST"


async def test_validation_errors_list_each_field(client: AsyncClient) -> None:
    response = await client.post("/notes", json={"txet": "typo"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["title"] == "Unprocessable Content"
    assert body["errors"] == [{"loc": ["body", "text"], "msg": "Field required", "type": "missing"}]


async def test_malformed_json_is_a_client_error(client: AsyncClient) -> None:
    response = await client.post(
        "/notes", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


async def test_an_unexpected_error_hides_internals_and_is_logged(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/boom", headers={"X-Request-ID": "trace-me"})
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "secret internals" not in response.text
    assert response.json()["detail"] == "An unexpected error occurred."
    assert response.headers["x-request-id"] == "trace-me"
    [logged] = [record for record in caplog.records if record.exc_info]
    assert logged.exc_info is not None
    assert "secret internals" in str(logged.exc_info[1])


async def test_oversized_body_is_refused_with_413(client: AsyncClient) -> None:
    response = await client.post("/notes", json={"text": "x" * 2000})
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


async def test_oversized_streamed_body_is_refused_with_413(client: AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 200

    response = await client.post(
        "/notes", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "The request body is larger than 1024 bytes."


async def test_every_response_carries_security_headers_and_a_request_id(
    client: AsyncClient,
) -> None:
    for response in [await client.get("/healthz"), await client.get("/nowhere")]:
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
        assert len(response.headers["x-request-id"]) == 32


async def test_a_safe_client_request_id_is_kept_and_an_unsafe_one_replaced(
    client: AsyncClient,
) -> None:
    kept = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    replaced = await client.get("/healthz", headers={"X-Request-ID": "bad id\r\nx: y"})
    assert kept.headers["x-request-id"] == "abc-123"
    assert replaced.headers["x-request-id"] != "bad id\r\nx: y"


async def test_cors_allows_only_listed_origins(client: AsyncClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = await client.options("/notes", headers={"Origin": ALLOWED_ORIGIN, **preflight})
    refused = await client.options(
        "/notes", headers={"Origin": "https://evil.example", **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


async def test_cors_preflight_allows_the_headers_our_apis_read(client: AsyncClient) -> None:
    wanted = "authorization, if-match, if-none-match, idempotency-key, x-request-id"
    preflight = await client.options(
        "/notes",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": wanted,
        },
    )
    assert preflight.status_code == 200
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert all(header in allowed for header in wanted.split(", "))


async def test_liveness_and_readiness(client: AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"postgres": "ok"}}


async def test_readiness_fails_when_a_dependency_is_down(settings: AppSettings) -> None:
    async def refuse() -> None:
        raise ConnectionRefusedError

    app = create_app(settings, title="Broken", readiness_checks={"postgres": refuse})
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["checks"] == {"postgres": "failed: ConnectionRefusedError"}


async def test_readiness_reports_an_optional_dependency_down_without_failing(
    settings: AppSettings,
) -> None:
    async def answer() -> None:
        return None

    async def refuse() -> None:
        raise ConnectionRefusedError

    app = create_app(
        settings,
        title="Degraded",
        readiness_checks={"postgres": answer},
        optional_readiness_checks={"redis": refuse},
    )
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        degraded = await client.get("/readyz")
    assert degraded.status_code == 200
    assert degraded.json() == {
        "status": "degraded",
        "checks": {"postgres": "ok", "redis": "failed: ConnectionRefusedError"},
    }

    app = create_app(
        settings,
        title="Broken",
        readiness_checks={"postgres": refuse},
        optional_readiness_checks={"redis": answer},
    )
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        down = await client.get("/readyz")
    assert down.status_code == 503  # the database stays required


async def test_docs_work_offline(client: AsyncClient) -> None:
    for page in ["/docs", "/redoc"]:
        html = (await client.get(page)).text
        assert "cdn" not in html.lower()
        assert "/docs-assets/" in html
    script = await client.get("/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert (await client.get("/docs-assets/redoc.standalone.js")).status_code == 200


async def test_openapi_documents_the_problem_shape(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "Problem" in schema["components"]["schemas"]
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    unprocessable = schema["paths"]["/notes"]["post"]["responses"]["422"]
    reference = unprocessable["content"][PROBLEM]["schema"]["$ref"]
    assert reference == "#/components/schemas/UnprocessableContentProblem"
    assert schema["paths"]["/notes"]["post"]["responses"]["default"]["content"][PROBLEM][
        "schema"
    ] == {"$ref": "#/components/schemas/Problem"}


async def test_access_log_is_json_with_the_request_id(
    client: AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    await client.get("/healthz", headers={"X-Request-ID": "log-me"})
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "roadmap.access"]
    assert access[-1]["request_id"] == "log-me"
    assert access[-1]["status"] == 200
    assert access[-1]["path"] == "/healthz"


async def test_metrics_count_requests_by_route_template(client: AsyncClient) -> None:
    await client.get("/healthz")
    await client.get("/no/such/page")
    exposition = (await client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/healthz",status="200"}' in exposition
    assert 'route="<unmatched>",status="404"' in exposition
    assert "/no/such/page" not in exposition


async def test_head_is_answered_like_get_without_a_body(client: AsyncClient) -> None:
    get = await client.get("/healthz")
    head = await client.head("/healthz")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["content-type"] == get.headers["content-type"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"text": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested too deeply"),
        (b'{"text": "\xff"}', "not UTF-8 text"),
        (b'{"text": 1' + b"0" * 5000 + b"}", "a value too long to read"),
    ],
)
async def test_json_the_parser_cannot_read_is_a_422_problem_not_a_400(
    body: bytes, reason: str, database_url: str
) -> None:
    settings = AppSettings(environment=Environment.TEST, max_body_bytes=64 * 1024)
    app = build_app(settings, database_url)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        response = await client.post(
            "/notes", content=body, headers={"content-type": "application/json"}
        )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    [error] = response.json()["errors"]
    assert error == {"loc": ["body"], "msg": f"JSON decode error: {reason}", "type": "json_invalid"}

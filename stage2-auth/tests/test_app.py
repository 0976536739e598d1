"""The app as a whole: health checks, and documentation that lets Swagger UI sign in."""

from httpx import AsyncClient


async def test_liveness_and_readiness(client: AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"postgres": "ok", "redis": "ok"}


async def test_the_openapi_document_declares_the_oauth2_password_flow(
    client: AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()
    [scheme] = schema["components"]["securitySchemes"].values()
    assert scheme["type"] == "oauth2"
    assert scheme["flows"]["password"]["tokenUrl"] == "/auth/login"
    # Protected operations say so (a lock in Swagger UI); open ones do not.
    assert schema["paths"]["/users/me"]["get"]["security"]
    assert "security" not in schema["paths"]["/auth/register"]["post"]


async def test_the_login_operation_documents_both_request_bodies(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    content = schema["paths"]["/auth/login"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-www-form-urlencoded"}


async def test_a_body_over_the_limit_is_refused_before_it_is_read(client: AsyncClient) -> None:
    response = await client.post(
        "/auth/login",
        content=b"x" * 70_000,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413

from httpx import AsyncClient


async def test_the_openapi_document_describes_every_route(client: AsyncClient) -> None:
    response = await client.get("/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/products", "/orders", "/cart/items", "/admin/product-images"} <= set(paths)
    # The upload is documented as multipart, so /docs can send a file.
    upload = paths["/admin/product-images"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload


async def test_health_and_readiness(client: AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"postgres": "ok", "redis": "ok"}

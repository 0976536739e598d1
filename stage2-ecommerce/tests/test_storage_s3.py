"""Product images in an S3-compatible bucket: a real S3 server (moto's, on a local port)
receives our signed requests, and the API goes through it end to end."""

import logging
import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.testing.s3_server import ANY_KEY, signed
from shop.config import Settings
from shop.main import create_app
from shop.models import Product, ProductImage
from tests.conftest import make_settings
from tests.factories import UPLOAD, image_bytes, upload


def s3_settings(tmp: Path, base: Settings, **overrides: object) -> Settings:
    return make_settings(
        tmp,
        database_url=base.database_url,
        redis_url=base.redis_url,
        storage_backend="s3",
        s3_access_key=ANY_KEY.access_key,
        s3_secret_key=SecretStr(ANY_KEY.secret_key),
        **overrides,
    )


@pytest.fixture
def s3_overrides(s3_endpoint: str, s3_bucket: str) -> dict[str, object]:
    """The storage settings of this module's app; tests parametrize it to break them."""
    return {"s3_endpoint_url": s3_endpoint, "s3_bucket": s3_bucket}


@pytest.fixture
def app(
    settings: Settings, redis_client: Redis, tmp_path: Path, s3_overrides: dict[str, object]
) -> FastAPI:
    return create_app(s3_settings(tmp_path, settings, **s3_overrides))


def without_query(url: str) -> str:
    return url.partition("?")[0]


# --- through the API --------------------------------------------------------------------


async def test_an_image_is_uploaded_to_the_bucket_fetched_by_url_and_deleted(
    client: httpx.AsyncClient,
    product: Product,
    admin: dict[str, str],
    s3_endpoint: str,
    s3_bucket: str,
) -> None:
    data = image_bytes("PNG")

    response = await upload(client, product.id, data, admin)

    assert response.status_code == 201
    url = response.json()["url"]
    # A presigned GET: the bucket stays private, and this URL reads this object only.
    object_url = re.escape(f"{s3_endpoint}/{s3_bucket}/products/{product.id}/")
    assert re.fullmatch(object_url + r"[0-9a-f]{32}\.png", without_query(url))
    assert "X-Amz-Expires=3600" in url
    assert "X-Amz-Signature=" in url
    async with httpx.AsyncClient() as browser:  # a client outside the app, as a browser is
        served = await browser.get(url)
        assert served.status_code == 200
        assert served.content == data
        assert served.headers["content-type"] == "image/png"
        unsigned = await browser.get(without_query(url))
        assert unsigned.status_code == 403
        detail = (await client.get(f"/products/{product.id}")).json()
        assert [without_query(image["url"]) for image in detail["images"]] == [without_query(url)]

        deleted = await client.delete(f"{UPLOAD}/{response.json()['id']}", headers=admin)

        assert deleted.status_code == 204
        assert (await browser.get(url)).status_code == 404
    assert (await client.get(f"/products/{product.id}")).json()["images"] == []


async def test_the_app_serves_no_media_route_when_images_live_in_a_bucket(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/media/products/1/anything.png")).status_code == 404


@pytest.mark.parametrize(
    "s3_overrides",
    [
        pytest.param({"s3_bucket": "no-such-bucket"}, id="missing-bucket"),
        pytest.param({"s3_endpoint_url": "http://127.0.0.1:9"}, id="unreachable"),
    ],
)
async def test_a_failing_bucket_is_503_and_leaves_no_image_behind(
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    product: Product,
    admin: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    response = await upload(client, product.id, image_bytes(), admin)

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert "bucket" not in response.text  # what failed is logged, not told to the client
    assert "image storage failed" in caplog.text
    images = select(ProductImage).where(ProductImage.product_id == product.id)
    assert (await db_session.scalars(images)).all() == []


async def test_a_storage_failure_after_the_row_is_deleted_is_logged_not_an_error(
    *,
    client: httpx.AsyncClient,
    product: Product,
    admin: dict[str, str],
    s3_endpoint: str,
    s3_bucket: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    image = (await upload(client, product.id, image_bytes(), admin)).json()
    # The bucket disappears (emptied, then deleted) between the upload and the deletion.
    key = without_query(image["url"]).removeprefix(f"{s3_endpoint}/{s3_bucket}/")
    await signed("DELETE", f"{s3_endpoint}/{s3_bucket}/{key}")
    assert (await signed("DELETE", f"{s3_endpoint}/{s3_bucket}")).status_code == 204

    with caplog.at_level(logging.WARNING):
        deleted = await client.delete(f"{UPLOAD}/{image['id']}", headers=admin)

    assert deleted.status_code == 204  # the image is gone for every client
    assert "left for a sweep" in caplog.text
    assert (await client.get(f"/products/{product.id}")).json()["images"] == []

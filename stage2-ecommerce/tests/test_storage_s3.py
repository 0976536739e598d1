"""Product images in an S3-compatible bucket: a real S3 server (moto's, on a local port)
receives our signed requests, and the API goes through it end to end."""

import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from moto.server import ThreadedMotoServer
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shop.config import Settings
from shop.main import create_app
from shop.models import Product, ProductImage
from shop.storage.base import StorageError
from shop.storage.s3 import S3ImageStorage
from shop.storage.sigv4 import Credentials, sha256_hex, sign_request
from tests.conftest import make_settings
from tests.factories import UPLOAD, image_bytes, upload

REGION = "us-east-1"
# moto accepts any key until IAM checks are switched on (see the signature test).
ANY_KEY = Credentials(access_key="test-access-key", secret_key="test-secret-key", region=REGION)


# --- a local S3 ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server in a thread of this process, on a free port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


async def signed(
    method: str,
    url: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    credentials: Credentials = ANY_KEY,
) -> httpx.Response:
    """One signed request to the S3 server, for setting up and inspecting the bucket."""
    request_url = httpx.URL(url)
    signed_headers = sign_request(
        method,
        request_url,
        headers or {},
        payload_hash=sha256_hex(body),
        credentials=credentials,
        now=datetime.now(UTC),
    )
    async with httpx.AsyncClient() as client:
        return await client.request(method, request_url, headers=signed_headers, content=body)


@pytest_asyncio.fixture
async def bucket(s3_endpoint: str) -> str:
    """A new, empty bucket for one test."""
    name = f"shop-test-{uuid.uuid4().hex[:12]}"
    response = await signed("PUT", f"{s3_endpoint}/{name}")
    assert response.status_code == 200
    return name


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
def s3_overrides(s3_endpoint: str, bucket: str) -> dict[str, object]:
    """The storage settings of this module's app; tests parametrize it to break them."""
    return {"s3_endpoint_url": s3_endpoint, "s3_bucket": bucket}


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
    bucket: str,
) -> None:
    data = image_bytes("PNG")

    response = await upload(client, product.id, data, admin)

    assert response.status_code == 201
    url = response.json()["url"]
    # A presigned GET: the bucket stays private, and this URL reads this object only.
    object_url = re.escape(f"{s3_endpoint}/{bucket}/products/{product.id}/")
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
    bucket: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    image = (await upload(client, product.id, image_bytes(), admin)).json()
    # The bucket disappears (emptied, then deleted) between the upload and the deletion.
    key = without_query(image["url"]).removeprefix(f"{s3_endpoint}/{bucket}/")
    await signed("DELETE", f"{s3_endpoint}/{bucket}/{key}")
    assert (await signed("DELETE", f"{s3_endpoint}/{bucket}")).status_code == 204

    with caplog.at_level(logging.WARNING):
        deleted = await client.delete(f"{UPLOAD}/{image['id']}", headers=admin)

    assert deleted.status_code == 204  # the image is gone for every client
    assert "left for a sweep" in caplog.text
    assert (await client.get(f"/products/{product.id}")).json()["images"] == []


# --- the storage itself --------------------------------------------------------------------


async def test_stored_objects_keep_their_bytes_and_content_type(
    s3_endpoint: str, bucket: str
) -> None:
    storage = S3ImageStorage(
        endpoint_url=s3_endpoint, bucket=bucket, credentials=ANY_KEY, url_expiry_seconds=60
    )
    try:
        await storage.save("products/7/a b+c.webp", b"RIFF....WEBP", "image/webp")
        stored = await signed("GET", f"{s3_endpoint}/{bucket}/products/7/a%20b%2Bc.webp")
        await storage.delete("products/7/a b+c.webp")
        await storage.delete("products/7/a b+c.webp")  # deleting what is gone is not an error
        gone = await signed("GET", f"{s3_endpoint}/{bucket}/products/7/a%20b%2Bc.webp")
    finally:
        await storage.close()

    assert stored.status_code == 200
    assert (stored.content, stored.headers["content-type"]) == (b"RIFF....WEBP", "image/webp")
    assert gone.status_code == 404


def test_with_a_public_url_images_get_plain_stable_urls() -> None:
    storage = S3ImageStorage(
        endpoint_url="http://127.0.0.1:9000",
        bucket="shop-media",
        credentials=ANY_KEY,
        url_expiry_seconds=3600,
        public_url="https://cdn.shop.example/",
    )

    assert storage.url("products/7/ab.png") == "https://cdn.shop.example/products/7/ab.png"


@asynccontextmanager
async def iam_checks(s3_endpoint: str) -> AsyncIterator[None]:
    """moto's IAM checks, switched on: every request must then carry a valid signature by
    a known access key, which moto recomputes and compares. (It does not check presigned
    GETs; `test_sigv4.py` checks those against AWS's own example.)"""
    switch = f"{s3_endpoint}/moto-api/reset-auth"  # the number of requests to let through
    async with httpx.AsyncClient() as client:
        (await client.post(switch, content=b"0")).raise_for_status()
        try:
            yield
        finally:
            (await client.post(switch, content=b"inf")).raise_for_status()


async def iam_user_with_s3_access(s3_endpoint: str) -> Credentials:
    """An IAM user allowed `s3:*`, made through moto's IAM API (a signed form POST)."""
    iam = Credentials(ANY_KEY.access_key, ANY_KEY.secret_key, REGION, service="iam")

    async def call(action: str, **parameters: str) -> str:
        form = httpx.QueryParams({"Action": action, "Version": "2010-05-08", **parameters})
        response = await signed(
            "POST",
            f"{s3_endpoint}/",
            body=str(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            credentials=iam,
        )
        response.raise_for_status()
        return response.text

    user = f"shop-{uuid.uuid4().hex[:8]}"
    await call("CreateUser", UserName=user)
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
    )
    await call("PutUserPolicy", UserName=user, PolicyName="images", PolicyDocument=policy)
    keys = await call("CreateAccessKey", UserName=user)
    access_key = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", keys)
    secret_key = re.search(r"<SecretAccessKey>([^<]+)</SecretAccessKey>", keys)
    assert access_key is not None
    assert secret_key is not None
    return Credentials(access_key.group(1), secret_key.group(1), REGION)


async def test_the_server_verifies_our_signatures_and_refuses_a_wrong_secret(
    s3_endpoint: str, bucket: str
) -> None:
    user = await iam_user_with_s3_access(s3_endpoint)
    wrong_secret = Credentials(user.access_key, "not-the-secret", REGION)

    async def save_with(credentials: Credentials) -> None:
        storage = S3ImageStorage(
            endpoint_url=s3_endpoint, bucket=bucket, credentials=credentials, url_expiry_seconds=60
        )
        try:
            await storage.save("products/1/x.png", b"png bytes", "image/png")
            await storage.delete("products/1/x.png")
        finally:
            await storage.close()

    async with iam_checks(s3_endpoint):
        await save_with(user)  # accepted: the server computed the same signature
        with pytest.raises(StorageError, match="403 SignatureDoesNotMatch"):
            await save_with(wrong_secret)

"""The S3 storage against a real S3 server (moto's, on a local port): what it stores, lists
and deletes, and that the server accepts its signatures."""

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from roadmap_shared.storage.base import StorageError
from roadmap_shared.storage.s3 import S3ImageStorage
from roadmap_shared.storage.sigv4 import Credentials
from roadmap_shared.testing.s3_server import (
    ANY_KEY,
    REGION,
    iam_checks,
    iam_user_with_s3_access,
    signed,
)


class ListingPages(httpx.AsyncBaseTransport):
    """Asks the bucket for `page_size` keys per listing page, and counts the listings.
    (moto checks no signature unless told to, so the changed query string passes.)"""

    def __init__(self, page_size: int) -> None:
        self._http = httpx.AsyncHTTPTransport()
        self._page_size = page_size
        self.listings = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.params.get("list-type") == "2":
            self.listings += 1
            request.url = request.url.copy_set_param("max-keys", str(self._page_size))
        return await self._http.handle_async_request(request)

    async def aclose(self) -> None:
        await self._http.aclose()


@pytest_asyncio.fixture
async def storage(s3_endpoint: str, s3_bucket: str) -> AsyncIterator[S3ImageStorage]:
    storage = S3ImageStorage(
        endpoint_url=s3_endpoint, bucket=s3_bucket, credentials=ANY_KEY, url_expiry_seconds=60
    )
    yield storage
    await storage.close()


async def test_stored_objects_keep_their_bytes_and_content_type(
    storage: S3ImageStorage, s3_endpoint: str, s3_bucket: str
) -> None:
    await storage.save("products/7/a b+c.webp", b"RIFF....WEBP", "image/webp")
    stored = await signed("GET", f"{s3_endpoint}/{s3_bucket}/products/7/a%20b%2Bc.webp")
    await storage.delete("products/7/a b+c.webp")
    await storage.delete("products/7/a b+c.webp")  # deleting what is gone is not an error
    gone = await signed("GET", f"{s3_endpoint}/{s3_bucket}/products/7/a%20b%2Bc.webp")

    assert stored.status_code == 200
    assert (stored.content, stored.headers["content-type"]) == (b"RIFF....WEBP", "image/webp")
    assert gone.status_code == 404


async def test_the_listing_reads_every_page_under_the_prefix(
    s3_endpoint: str, s3_bucket: str
) -> None:
    pages = ListingPages(page_size=2)
    storage = S3ImageStorage(
        endpoint_url=s3_endpoint,
        bucket=s3_bucket,
        credentials=ANY_KEY,
        url_expiry_seconds=60,
        client=httpx.AsyncClient(transport=pages),
    )
    images = [f"products/1/{n}.png" for n in range(5)]
    try:
        for key in [*images, "exports/catalogue.csv"]:
            await storage.save(key, b"png", "image/png")
        listed = [stored async for stored in storage.stored_objects("products/")]
    finally:
        await storage.close()

    assert [stored.key for stored in listed] == images
    assert all(stored.last_modified.tzinfo is not None for stored in listed)
    assert pages.listings == 3  # five keys, two a page


async def test_a_missing_bucket_fails_the_listing_with_a_storage_error(
    s3_endpoint: str,
) -> None:
    storage = S3ImageStorage(
        endpoint_url=s3_endpoint,
        bucket="no-such-bucket",
        credentials=ANY_KEY,
        url_expiry_seconds=60,
    )
    try:
        with pytest.raises(StorageError, match="404 NoSuchBucket"):
            [stored async for stored in storage.stored_objects("products/")]
    finally:
        await storage.close()


def test_with_a_public_url_images_get_plain_stable_urls() -> None:
    storage = S3ImageStorage(
        endpoint_url="http://127.0.0.1:9000",
        bucket="shop-media",
        credentials=ANY_KEY,
        url_expiry_seconds=3600,
        public_url="https://cdn.shop.example/",
    )

    assert storage.url("products/7/ab.png") == "https://cdn.shop.example/products/7/ab.png"


async def test_the_server_verifies_our_signatures_and_refuses_a_wrong_secret(
    s3_endpoint: str, s3_bucket: str
) -> None:
    user = await iam_user_with_s3_access(s3_endpoint)
    wrong_secret = Credentials(user.access_key, "not-the-secret", REGION)

    async def save_with(credentials: Credentials) -> None:
        storage = S3ImageStorage(
            endpoint_url=s3_endpoint,
            bucket=s3_bucket,
            credentials=credentials,
            url_expiry_seconds=60,
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

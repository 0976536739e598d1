"""Exercise 2 (medium): sweep orphaned images. `make exercise STAGE=stage2-ecommerce N=2`"""

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.database import Database
from roadmap_shared.storage.s3 import S3ImageStorage
from roadmap_shared.testing.s3_server import ANY_KEY, signed
from shop.config import Settings
from shop.models import ProductImage
from shop.worker import worker_options
from tests.factories import make_product

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 2: a worker job `shop.jobs.tasks.sweep_orphaned_images(ctx, min_age_seconds=3600)`"
    " deletes the stored images no row refers to, through `ctx['storage']` (see the README)"
)
Job = Callable[..., Awaitable[int]]


def the_job() -> Job:
    job: Job | None = getattr(
        importlib.import_module("shop.jobs.tasks"), "sweep_orphaned_images", None
    )
    assert job is not None, TODO
    return job


class TwoKeysPerPage(httpx.AsyncBaseTransport):
    """Asks the bucket for two keys per listing page, so that a handful of objects take
    several pages; counts the listings. (moto checks no signature unless told to, so the
    changed query string passes.)"""

    def __init__(self) -> None:
        self._http = httpx.AsyncHTTPTransport()
        self.listings = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.params.get("list-type") == "2":
            self.listings += 1
            request.url = request.url.copy_set_param("max-keys", "2")
        return await self._http.handle_async_request(request)

    async def aclose(self) -> None:
        await self._http.aclose()


@pytest_asyncio.fixture
async def bucket_url(s3_endpoint: str, s3_bucket: str) -> str:
    return f"{s3_endpoint}/{s3_bucket}"


@pytest_asyncio.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    database = Database.from_settings(settings, pool_size=2, max_overflow=0)
    yield database
    await database.dispose()


async def stored(bucket_url: str, key: str) -> bool:
    return (await signed("GET", f"{bucket_url}/{key}")).status_code == 200


async def test_orphans_older_than_the_grace_are_swept_and_the_rest_kept(
    committed_session: AsyncSession, database: Database, s3_endpoint: str, bucket_url: str
) -> None:
    job = the_job()
    transport = TwoKeysPerPage()
    storage = S3ImageStorage(
        endpoint_url=s3_endpoint,
        bucket=bucket_url.rsplit("/", 1)[1],
        credentials=ANY_KEY,
        url_expiry_seconds=60,
        client=httpx.AsyncClient(transport=transport),
    )
    product = await make_product(committed_session)
    kept = f"products/{product.id}/referenced.png"
    committed_session.add(
        ProductImage(
            product_id=product.id,
            storage_key=kept,
            content_type="image/png",
            width=64,
            height=64,
            byte_size=3,
            alt_text="",
            position=0,
        )
    )
    await committed_session.commit()
    orphans = [f"products/{product.id}/orphan-{n}.png" for n in range(5)]
    elsewhere = "exports/catalogue.csv"  # not an image: outside the swept prefix
    for key in [kept, *orphans, elsewhere]:
        await storage.save(key, b"png", "image/png")
    ctx: dict[str, Any] = {"database": database, "storage": storage}

    try:
        await job(ctx)  # every orphan is fresh: its upload may still be committing
        fresh_kept = [await stored(bucket_url, key) for key in orphans]
        swept = await job(ctx, min_age_seconds=0)
    finally:
        await storage.close()

    assert all(fresh_kept), f"{TODO}: orphans younger than `min_age_seconds` stay"
    assert [await stored(bucket_url, key) for key in orphans] == [False] * 5, TODO
    assert swept == 5, f"{TODO}: the job returns how many objects it deleted"
    assert await stored(bucket_url, kept), f"{TODO}: an image a row refers to stays"
    assert await stored(bucket_url, elsewhere), f"{TODO}: only `products/` is swept"
    assert transport.listings >= 2 * 3, (
        f"{TODO}: six objects at two per page take several listing requests per sweep; "
        "follow `NextContinuationToken` to the last page"
    )


def test_the_worker_sweeps_every_hour(settings: Settings) -> None:
    the_job()
    crons = {job.name: job for job in worker_options(settings)["cron_jobs"]}
    assert "cron:sweep_orphaned_images" in crons, f"{TODO}: schedule it in shop.worker"
    assert crons["cron:sweep_orphaned_images"].minute is not None, "once an hour, not every minute"

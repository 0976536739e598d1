from catalog.config import Settings
from catalog.storage.base import ImageStorage
from catalog.storage.local import LocalImageStorage
from catalog.storage.s3 import S3ImageStorage
from catalog.storage.sigv4 import Credentials


def build_storage(settings: Settings) -> ImageStorage:
    """The one place that picks the storage, from `SHOP_STORAGE_BACKEND`."""
    if settings.storage_backend == "s3":
        secret_key = settings.s3_secret_key
        if secret_key is None:  # refused by Settings already; said again for the type checker
            raise ValueError("SHOP_S3_SECRET_KEY is not set")
        credentials = Credentials(
            access_key=settings.s3_access_key,
            secret_key=secret_key.get_secret_value(),
            region=settings.s3_region,
        )
        return S3ImageStorage(
            endpoint_url=settings.s3_endpoint_url,
            bucket=settings.s3_bucket,
            credentials=credentials,
            url_expiry_seconds=settings.s3_url_expiry_seconds,
            public_url=settings.s3_public_url,
        )
    return LocalImageStorage(settings.media_dir, base_url=settings.media_url)

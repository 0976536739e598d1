from pathlib import Path
from typing import Literal, Protocol

from pydantic import SecretStr

from roadmap_shared.storage.base import ImageStorage
from roadmap_shared.storage.local import LocalImageStorage
from roadmap_shared.storage.s3 import S3ImageStorage
from roadmap_shared.storage.sigv4 import Credentials


class StorageSettings(Protocol):
    """The settings `build_storage` reads; each stage's Settings has them, under its prefix."""

    @property
    def storage_backend(self) -> Literal["local", "s3"]: ...
    @property
    def media_dir(self) -> Path: ...
    @property
    def media_url(self) -> str: ...
    @property
    def s3_endpoint_url(self) -> str: ...
    @property
    def s3_region(self) -> str: ...
    @property
    def s3_bucket(self) -> str: ...
    @property
    def s3_access_key(self) -> str: ...
    @property
    def s3_secret_key(self) -> SecretStr | None: ...
    @property
    def s3_url_expiry_seconds(self) -> int: ...
    @property
    def s3_public_url(self) -> str: ...


def build_storage(settings: StorageSettings) -> ImageStorage:
    """The one place that picks the storage, from the stage's `STORAGE_BACKEND`."""
    if settings.storage_backend == "s3":
        secret_key = settings.s3_secret_key
        if secret_key is None:  # refused by the stage's Settings already; said again for mypy
            raise ValueError("the S3 secret key is not set")
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

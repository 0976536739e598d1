from shop.config import Settings
from shop.storage.base import ImageStorage
from shop.storage.local import LocalImageStorage


def build_storage(settings: Settings) -> ImageStorage:
    """The one place that picks the storage. A bucket-backed `ImageStorage` (S3, MinIO,
    R2) would be chosen here by a setting; see the exercises in the README."""
    return LocalImageStorage(settings.media_dir, base_url=settings.media_url)

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class StorageError(Exception):
    """The storage could not do what was asked: unreachable, refused, or misconfigured.

    The message is for the logs (it may name the bucket or the path), not for clients.
    """


@dataclass(frozen=True)
class StoredObject:
    key: str
    last_modified: datetime  # by the storage's clock, timezone-aware


class ImageStorage(Protocol):
    """Stores image bytes under keys the app chooses, and says where clients fetch them.

    Keys look like `products/42/3f2a....png`: made by the app, never by a client, so a
    request cannot name a path outside the storage. `save`, `delete` and `stored_objects`
    raise `StorageError` when they fail.
    """

    async def save(self, key: str, data: bytes, content_type: str) -> None: ...

    async def delete(self, key: str) -> None:
        """Removes the object; removing one that is not there is not an error."""
        ...

    def stored_objects(self, prefix: str) -> AsyncIterator[StoredObject]:
        """Every object whose key starts with `prefix`, read page by page as it is iterated:
        what a sweep of objects no row refers to walks through."""
        ...

    def url(self, key: str) -> str:
        """Where a client fetches the image. Computed without I/O: list pages call it for
        every image they show."""
        ...

    async def close(self) -> None:
        """Releases connections; called when the app shuts down."""
        ...

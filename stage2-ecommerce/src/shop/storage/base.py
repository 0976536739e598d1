from typing import Protocol


class ImageStorage(Protocol):
    """Stores image bytes under keys the app chooses, and says where clients fetch them.

    Keys look like `products/42/3f2a....png`: made by the app, never by a client, so a
    request cannot name a path outside the storage.
    """

    async def save(self, key: str, data: bytes, content_type: str) -> None: ...

    async def delete(self, key: str) -> None:
        """Removes the object; removing one that is not there is not an error."""
        ...

    def url(self, key: str) -> str: ...

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from roadmap_shared.storage.base import StorageError, StoredObject


class LocalImageStorage:
    """Files in a directory, served by the app itself under its media URL (the stage's main.py
    mounts the directory there).

    Fine for one server and for development; several servers need a shared bucket.
    """

    def __init__(self, root: Path, *, base_url: str) -> None:
        self._root = root.resolve()
        self._base_url = base_url.rstrip("/")

    def _path(self, key: str) -> Path:
        path = (self._root / key).resolve()
        if not path.is_relative_to(self._root):  # defence in depth: keys are ours anyway
            raise ValueError(f"storage key escapes the storage root: {key!r}")
        return path

    async def save(self, key: str, data: bytes, content_type: str) -> None:
        try:
            await asyncio.to_thread(self._write, self._path(key), data)
        except OSError as exc:  # a full or read-only disk
            raise StorageError(f"cannot write {key}: {exc}") from exc

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target and renamed into place, so a reader never sees half a file.
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        os.replace(partial, path)

    async def delete(self, key: str) -> None:
        try:
            await asyncio.to_thread(self._path(key).unlink, missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot delete {key}: {exc}") from exc

    async def stored_objects(self, prefix: str) -> AsyncIterator[StoredObject]:
        try:
            found = await asyncio.to_thread(self._walk, prefix)
        except OSError as exc:
            raise StorageError(f"cannot list {prefix}: {exc}") from exc
        for stored in found:
            yield stored

    def _walk(self, prefix: str) -> list[StoredObject]:
        found = []
        for path in sorted(self._root.rglob("*")):
            key = path.relative_to(self._root).as_posix()
            if key.startswith(prefix) and path.is_file():
                modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                found.append(StoredObject(key, modified))
        return found

    def url(self, key: str) -> str:
        return f"{self._base_url}/{key}"

    async def close(self) -> None:
        """Nothing to release: every file operation opens and closes its own file."""

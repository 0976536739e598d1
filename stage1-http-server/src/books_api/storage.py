"""The whole data set in one JSON file, safe to share between threads and processes.

Two rules keep the file intact:

- A write never modifies the file in place. It writes a temporary file in the same
  directory, flushes it to disk (`fsync`), then renames it over the old one (`os.replace`,
  atomic on POSIX). A reader, or a crash at any moment, sees the old file or the new one,
  never half of each. Syncing the directory afterwards makes the rename itself durable.
- Every read-modify-write holds an exclusive lock on `<data file>.lock` (`filelock`, an OS
  lock that covers other processes too), so two writers cannot both start from the same
  old content and lose one of the changes. The threads of one process first queue on a
  `threading.Lock`, which wakes the next one as soon as it is free; only one of them at a
  time polls the file lock, so a busy process does not starve the others.

Reads take no lock: thanks to the atomic rename they always see a complete file.
A file that cannot be read or is not valid is reported and never overwritten.
"""

import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Self

from filelock import FileLock, Timeout
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from books_api.schemas import Book


class DataFileError(Exception):
    """The data file is missing, unreadable or not valid. Someone has to look at it."""


class StorageBusy(Exception):
    """Another writer held the lock for longer than the configured timeout."""


class BookFile(BaseModel):
    """The content of the data file."""

    # A field we do not know (a hand edit, a newer version of this code) is refused: ignored,
    # it would vanish without a word at the next write.
    model_config = ConfigDict(extra="forbid")

    # Ids are never reused, even after a delete: an old link or cached ETag must never
    # point at a different book.
    next_id: int = Field(default=1, ge=1)
    books: list[Book] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ids_are_unique_and_below_next_id(self) -> Self:
        ids = [book.id for book in self.books]
        if len(set(ids)) != len(ids):
            raise ValueError("two books share an id")
        if ids and max(ids) >= self.next_id:
            raise ValueError("next_id must be greater than every book id")
        return self


class JsonFileStorage:
    def __init__(self, path: Path, *, lock_timeout_seconds: float) -> None:
        self.path = path
        self._lock_timeout = lock_timeout_seconds
        self._thread_lock = threading.Lock()
        # filelock cannot be woken by another process's release: it retries every 10 ms.
        self._file_lock = FileLock(path.with_name(path.name + ".lock"), poll_interval=0.01)

    def open(self, *, create_if_missing: bool) -> None:
        """Checks the file at startup (creating an empty one if allowed), so that a bad
        file stops the server before it answers anything."""
        if not self.path.exists() and not create_if_missing:
            raise DataFileError(
                f"The data file {self.path} does not exist. Restore it, point BOOKS_DATA_FILE "
                f"at the right file, or set BOOKS_CREATE_DATA_FILE=true to start empty."
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._locked():
                # Checked again under the lock: another process may be starting too.
                if not self.path.exists():
                    self._write(BookFile())
        except OSError as error:
            raise DataFileError(f"Cannot create the data file {self.path}: {error}") from error
        self.read()

    def read(self) -> BookFile:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError as error:
            # It existed at startup, so someone removed it; starting over empty would hide that.
            raise DataFileError(f"The data file {self.path} has disappeared.") from error
        except OSError as error:
            raise DataFileError(f"Cannot read the data file {self.path}: {error}") from error
        try:
            return BookFile.model_validate_json(raw)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the top level"
            raise DataFileError(
                f"The data file {self.path} is not valid ({where}: {first['msg']}). "
                f"It has been left untouched: fix it or move it away."
            ) from error

    @contextlib.contextmanager
    def transaction(self) -> Iterator[BookFile]:
        """Read-modify-write under the lock. The changes made to the yielded `BookFile` are
        saved when the block ends normally; if it raises, nothing is written."""
        with self._locked():
            data = self.read()
            yield data
            self._write(data)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        deadline = time.monotonic() + self._lock_timeout
        if not self._thread_lock.acquire(timeout=self._lock_timeout):
            raise StorageBusy(f"Timed out waiting for the lock on {self.path}")
        try:
            self._file_lock.acquire(timeout=max(0.0, deadline - time.monotonic()))
        except Timeout as error:
            self._thread_lock.release()
            raise StorageBusy(f"Timed out waiting for the lock on {self.path}") from error
        try:
            yield
        finally:
            self._file_lock.release()
            self._thread_lock.release()

    def _write(self, data: BookFile) -> None:
        content = data.model_dump_json(indent=2).encode() + b"\n"
        # Same directory, so the rename stays on one file system (required to be atomic).
        descriptor, temporary = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        self._sync_directory()

    def _sync_directory(self) -> None:
        # The rename is an entry in the directory; without this, a power cut could
        # bring back the old file after we answered 201.
        descriptor = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

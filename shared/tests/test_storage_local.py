"""The local storage: files in a directory, written whole, listed by prefix."""

from pathlib import Path

import pytest

from roadmap_shared.storage.base import StorageError
from roadmap_shared.storage.local import LocalImageStorage


async def test_a_saved_file_is_read_back_by_its_url_and_deleted(tmp_path: Path) -> None:
    storage = LocalImageStorage(tmp_path, base_url="/media/")

    await storage.save("products/1/a.png", b"png bytes", "image/png")
    written = (tmp_path / "products/1/a.png").read_bytes()
    await storage.delete("products/1/a.png")
    await storage.delete("products/1/a.png")  # deleting what is gone is not an error

    assert written == b"png bytes"
    assert storage.url("products/1/a.png") == "/media/products/1/a.png"
    assert not (tmp_path / "products/1/a.png").exists()


async def test_the_local_storage_reports_a_failed_write_as_a_storage_error(tmp_path: Path) -> None:
    storage = LocalImageStorage(tmp_path, base_url="/media")
    (tmp_path / "products").write_bytes(b"")  # a file where a directory must go

    with pytest.raises(StorageError, match="cannot write"):
        await storage.save("products/1/a.png", b"png bytes", "image/png")


async def test_a_key_cannot_reach_outside_the_root(tmp_path: Path) -> None:
    storage = LocalImageStorage(tmp_path / "media", base_url="/media")

    with pytest.raises(ValueError, match="escapes"):
        await storage.save("../outside.png", b"png bytes", "image/png")

    assert not (tmp_path / "outside.png").exists()


async def test_the_local_storage_lists_the_files_under_a_prefix(tmp_path: Path) -> None:
    storage = LocalImageStorage(tmp_path, base_url="/media")
    for key in ["products/2/b.png", "products/1/a.png", "exports/catalogue.csv"]:
        await storage.save(key, b"bytes", "image/png")

    listed = [stored async for stored in storage.stored_objects("products/")]

    assert [stored.key for stored in listed] == ["products/1/a.png", "products/2/b.png"]
    assert all(stored.last_modified.tzinfo is not None for stored in listed)

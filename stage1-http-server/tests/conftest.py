from pathlib import Path

import pytest
from fastapi import FastAPI

from books_api.config import Settings
from books_api.main import create_app
from roadmap_shared.settings import Environment


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    """Where this test's books live: a fresh file per test, so tests never share data."""
    return tmp_path / "data" / "books.json"


@pytest.fixture
def settings(data_file: Path) -> Settings:
    # `_env_file=None`, and every setting the tests rely on given here: a developer's `.env`
    # or BOOKS_* variables must not change what the tests see.
    return Settings(
        _env_file=None,
        environment=Environment.TEST,
        data_file=data_file,
        create_data_file=True,
        lock_timeout_seconds=5,
        max_body_bytes=2048,
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)

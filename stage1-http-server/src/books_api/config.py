"""Settings for the book API, read from `BOOKS_*` environment variables (and `.env`)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from roadmap_shared.settings import AppSettings


class Settings(AppSettings):
    model_config = SettingsConfigDict(env_prefix="BOOKS_")

    # A relative path is relative to the working directory, like `.env` and any path given
    # on a command line; run the stage from its own folder and the file lands in
    # `stage1-http-server/data/`, which git ignores.
    data_file: Path = Path("data/books.json")
    # Start with an empty store when there is no data file yet (handy on a laptop). Set to
    # false in production: a missing file there means a volume that failed to mount, and
    # starting empty would look like every book had been lost.
    create_data_file: bool = True
    # How long a write waits for another process's write before answering 503.
    lock_timeout_seconds: float = Field(default=10.0, gt=0)
    # A book is a few hundred bytes; refuse anything much larger before reading it.
    max_body_bytes: int = Field(default=16_384, gt=0)


@lru_cache
def get_settings() -> Settings:
    return Settings()

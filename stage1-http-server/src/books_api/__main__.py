"""`python -m books_api [--port N] [--reload]`: check the data file, then serve the API."""

from books_api.config import get_settings
from books_api.main import build_storage
from books_api.storage import DataFileError
from roadmap_shared.serve import run_stage


def check_data_file() -> None:
    # The app checks the file at startup too; checking here first turns a bad file into
    # one plain line instead of a server that starts, logs a traceback and exits.
    settings = get_settings()
    try:
        build_storage(settings).open(create_if_missing=settings.create_data_file)
    except DataFileError as error:
        raise SystemExit(f"books_api cannot start: {error}") from None


if __name__ == "__main__":
    run_stage("books_api", check=check_data_file)

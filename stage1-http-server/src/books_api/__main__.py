"""`python -m books_api`: check the data file, then serve the API with uvicorn."""

import sys

from books_api.config import get_settings
from books_api.main import build_storage
from books_api.storage import DataFileError
from roadmap_shared.serve import serve


def main() -> None:
    settings = get_settings()
    # The app checks the file at startup too; checking here first turns a bad file into
    # one plain line instead of a server that starts, logs a traceback and exits.
    try:
        build_storage(settings).open(create_if_missing=settings.create_data_file)
    except DataFileError as error:
        print(f"books_api cannot start: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    serve("books_api.main:create_app", settings)


if __name__ == "__main__":
    main()

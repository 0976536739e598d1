"""Entity tags (RFC 9110 §8.8.3): a short fingerprint of a book's current representation.

A client sends back the tag it got with `If-Match` when it writes ("only if the book is
still the one I read") and with `If-None-Match` when it reads ("only if it has changed").
"""

import hashlib

from books_api.schemas import Book


def etag_for(book: Book) -> str:
    # A hash of what GET returns: any change to the book, `updated_at` included, changes it.
    digest = hashlib.sha256(book.model_dump_json().encode()).hexdigest()
    return f'"{digest[:16]}"'


def _listed_tags(header: str) -> list[str]:
    # Our tags are hex digits, so a plain split is enough; a comma inside a quoted tag
    # would need a real parser.
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def if_match_holds(header: str, etag: str) -> bool:
    """`If-Match` uses the strong comparison: a weak tag (`W/"..."`) never matches."""
    tags = _listed_tags(header)
    return "*" in tags or etag in tags


def if_none_match_holds(header: str, etag: str) -> bool:
    """True when the client's copy is stale. `If-None-Match` compares weakly."""
    tags = [tag.removeprefix("W/") for tag in _listed_tags(header)]
    return not ("*" in tags or etag in tags)

"""Slugs: readable, unique identifiers made from titles ("How to train your dragon" ->
"how-to-train-your-dragon").

Uniqueness is the database's job (a unique constraint), not a check-then-insert, which two
concurrent requests would both pass. The service tries the plain slug first; if the
constraint refuses it, it tries the slug with a short random suffix
("how-to-train-your-dragon-3f9a1c"). A counter suffix ("-2", "-3") would need to read the
highest one first, and two concurrent requests would read the same.
"""

import re
import secrets
import unicodedata
from collections.abc import Iterator

MAX_BASE_LENGTH = 100
SUFFIXED_ATTEMPTS = 5
FALLBACK = "article"  # for titles with no Latin letters or digits at all
# Paths beside `/articles/{slug}`: an article titled "Feed" must not hide the feed.
RESERVED = frozenset({"feed"})


def slugify(title: str) -> str:
    # NFKD splits "é" into "e" and a combining accent, which the ASCII encoding drops.
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:MAX_BASE_LENGTH].rstrip("-") or FALLBACK


def candidates(title: str) -> Iterator[str]:
    """The slugs to try, in order, for a title."""
    base = slugify(title)
    if base not in RESERVED:
        yield base
    for _ in range(SUFFIXED_ATTEMPTS):
        # 16^6 = 16.7 million suffixes per title: a collision is rare, a repeated one rarer.
        yield f"{base}-{secrets.token_hex(3)}"

"""The hash chain: how a record's hash is computed, exactly.

A record's hash is the SHA-256, in lowercase hexadecimal, of this UTF-8 text: a JSON
object with the keys sorted, no whitespace (separators `,` and `:`), non-ASCII
characters escaped (`\\u00e9`), and these six members:

    {"event_type":"payment.completed","message_id":"<uuid, lowercase, hyphenated>",
     "payload":{...the payload, its keys sorted too...},"previous_hash":"<64 hex>",
     "recorded_at":"2026-12-02T01:15:00.123456+00:00","sequence":42}

`recorded_at` is in UTC with microseconds (PostgreSQL's precision, so the value read back
is the value hashed); `previous_hash` is the hash of record `sequence - 1`, or
`GENESIS_HASH` for the first record. Anyone can recompute it with any JSON library:
`hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())`.

Because each hash covers the previous one, changing any byte of a record changes its
hash, and putting the right hash back changes the next record's `previous_hash`: a
forger would have to rewrite every record after the one changed, and the head of the
chain (printed by `verify`, kept elsewhere) would no longer match.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# The `previous_hash` of the first record: there is nothing before it.
GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Link:
    """What a record's hash covers."""

    sequence: int
    message_id: uuid.UUID
    event_type: str
    payload: dict[str, Any]
    recorded_at: datetime
    previous_hash: str


def canonical_encoding(link: Link) -> bytes:
    document = {
        "sequence": link.sequence,
        "message_id": str(link.message_id),
        "event_type": link.event_type,
        "payload": link.payload,
        "recorded_at": link.recorded_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "previous_hash": link.previous_hash,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


def record_hash(link: Link) -> str:
    return hashlib.sha256(canonical_encoding(link)).hexdigest()

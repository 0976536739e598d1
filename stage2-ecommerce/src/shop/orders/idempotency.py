"""`Idempotency-Key`: a retried checkout returns the first result instead of a second order.

The key is claimed with an INSERT at the start of the checkout's transaction and the
response is written into that row before the transaction commits. A second request with
the same key blocks on the unique index until the first transaction ends, then:
- first committed  -> the row exists, with its response: replay it;
- first rolled back (out of stock, say) -> the INSERT succeeds: this request runs afresh.
So concurrent duplicates produce one order, and a failure is never cached: the failed
attempt changed nothing, and trying again is exactly what the client should do.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.errors import Conflict, UnprocessableContent
from shop.models import IdempotencyKey

HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict[str, Any]


def fingerprint(method: str, path: str, body: dict[str, Any]) -> str:
    """A hash of what the request asks for; key order and whitespace do not matter."""
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def claim(
    session: AsyncSession, *, user_id: int, key: str, request_fingerprint: str
) -> int | StoredResponse:
    """The id of our new claim on `key`, or the response stored by the request that
    claimed it first. The same key with a different request is refused with 422."""
    statement = (
        insert(IdempotencyKey)
        .values(user_id=user_id, key=key, request_fingerprint=request_fingerprint)
        .on_conflict_do_nothing(index_elements=[IdempotencyKey.user_id, IdempotencyKey.key])
        .returning(IdempotencyKey.id)
    )
    if (claim_id := await session.scalar(statement)) is not None:
        return claim_id
    existing = await session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    )
    # ON CONFLICT waited for the row's transaction, so the row is committed, response and
    # all. Only a purge of expired keys in between could make it vanish: ask for a retry.
    if existing is None or existing.response_status is None or existing.response_body is None:
        raise Conflict(f"The request with this {HEADER} could not be read back; retry it")
    if existing.request_fingerprint != request_fingerprint:
        raise UnprocessableContent(
            f"This {HEADER} was used for a different request; use a new key for a new request"
        )
    return StoredResponse(existing.response_status, existing.response_body)


async def store_response(
    session: AsyncSession, claim_id: int, *, status: int, body: dict[str, Any]
) -> None:
    statement = (
        update(IdempotencyKey)
        .where(IdempotencyKey.id == claim_id)
        .values(response_status=status, response_body=body)
    )
    await session.execute(statement)


async def delete_expired(session: AsyncSession, *, older_than: timedelta) -> int:
    """Forgets keys past their lifetime; a client retries within minutes, not days."""
    statement = (
        delete(IdempotencyKey)
        .where(IdempotencyKey.created_at < func.now() - older_than)
        .returning(IdempotencyKey.id)
    )
    return len((await session.scalars(statement)).all())

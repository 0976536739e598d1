"""What the order routes ask for before their handlers run: the caller's own order, and
the request's `Idempotency-Key`, claimed."""

from typing import Annotated, Any

from fastapi import Depends, Header
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.fields import BigIdPath
from shop.dependencies import CurrentUser, SessionDep
from shop.models import Order, User
from shop.orders import idempotency, service

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        min_length=1,
        max_length=255,
        pattern=r"^[\x20-\x7e]+$",
        description="Any unique string (a UUID): a retry with the same key and body "
        "returns the first response instead of placing a second order",
    ),
]


async def get_own_order(order_id: BigIdPath, user: CurrentUser, session: SessionDep) -> Order:
    """The caller's order `order_id`: a guard that loads and authorises it, so handlers
    never see someone else's (which is a 404, as if it did not exist)."""
    return await service.get_own(session, order_id, user.id)


OwnOrder = Annotated[Order, Depends(get_own_order)]


class Idempotency:
    """A request's `Idempotency-Key`. `claim` returns the response stored under it by the
    first request, to be replayed, or claims it; `remember` stores this request's response
    in the same transaction as its effects. Without a key both do nothing."""

    def __init__(self, session: AsyncSession, user: User, key: str | None) -> None:
        self._session = session
        self._user_id = user.id
        self._key = key
        self._claim_id: int | None = None

    async def claim(self, request_fingerprint: str) -> idempotency.StoredResponse | None:
        if self._key is None:
            return None
        claimed = await idempotency.claim(
            self._session,
            user_id=self._user_id,
            key=self._key,
            request_fingerprint=request_fingerprint,
        )
        if isinstance(claimed, idempotency.StoredResponse):
            return claimed
        self._claim_id = claimed
        return None

    async def remember(self, *, status: int, body: dict[str, Any]) -> None:
        if self._claim_id is not None:
            await idempotency.store_response(
                self._session, self._claim_id, status=status, body=body
            )


async def get_idempotency(
    session: SessionDep, user: CurrentUser, key: IdempotencyKeyHeader = None
) -> Idempotency:
    # A coroutine, not `Depends()` on the class: FastAPI would call the class in a worker
    # thread (see `roadmap_shared.dependencies`).
    return Idempotency(session, user, key)


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]

"""What the order routes ask for before their handlers run: the caller's own order, the
request's `Idempotency-Key`, and the client of the catalog service."""

from typing import Annotated

from fastapi import Depends, Header

from orders.catalog_client import CatalogClient
from orders.dependencies import CurrentUser, SessionDep
from orders.models import Order
from orders.orders import service
from roadmap_shared.dependencies import app_state_getter
from roadmap_shared.fields import BigIdPath

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x20-\x7e]+$",
        description="Any unique string (a UUID): a retry with the same key resumes or "
        "returns the same order instead of placing a second one",
    ),
]


async def get_own_order(order_id: BigIdPath, user: CurrentUser, session: SessionDep) -> Order:
    """The caller's order `order_id`: a guard that loads and authorises it, so handlers
    never see someone else's (which is a 404, as if it did not exist)."""
    return await service.get_own(session, order_id, user.id)


OwnOrder = Annotated[Order, Depends(get_own_order)]
CatalogClientDep = Annotated[CatalogClient, Depends(app_state_getter("catalog", CatalogClient))]

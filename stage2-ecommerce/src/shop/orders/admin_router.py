"""Orders as admins see them: everyone's, filtered, and moved along the status machine."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from roadmap_shared.errors import problem_responses
from roadmap_shared.fields import BigIdPath
from roadmap_shared.pagination import Page, PageParamsDep
from shop.dependencies import CatalogCacheDep, SessionDep, get_admin
from shop.models import OrderStatus
from shop.orders import service
from shop.orders.schemas import OrderPublic, StatusChange, order_public

router = APIRouter(
    prefix="/admin/orders",
    tags=["orders administration"],
    dependencies=[Depends(get_admin)],
    responses=problem_responses(401, 403),
)


@router.get("", summary="All orders, newest first", responses=problem_responses(422))
async def list_orders(
    session: SessionDep,
    page: PageParamsDep,
    status: OrderStatus | None = None,
    placed_after: Annotated[
        AwareDatetime | None, Query(description="Inclusive, ISO 8601 with a time zone")
    ] = None,
    placed_before: Annotated[
        AwareDatetime | None, Query(description="Exclusive, ISO 8601 with a time zone")
    ] = None,
) -> Page[OrderPublic]:
    orders, total = await service.list_orders(
        session, page, status=status, placed_after=placed_after, placed_before=placed_before
    )
    return Page.of([order_public(order) for order in orders], total=total, params=page)


@router.get("/{order_id}", summary="Any order", responses=problem_responses(404))
async def get_order(order_id: BigIdPath, session: SessionDep) -> OrderPublic:
    return order_public(await service.get_any(session, order_id))


@router.post(
    "/{order_id}/status",
    summary="Move an order: pending → paid → shipped → delivered, or cancel it",
    responses=problem_responses(404, 409),
)
async def change_status(
    order_id: BigIdPath,
    body: StatusChange,
    session: SessionDep,
    cache: CatalogCacheDep,
) -> OrderPublic:
    return order_public(await service.change_status(session, cache, order_id, body.status))

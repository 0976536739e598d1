"""A customer's orders: checkout, history, cancellation."""

from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from roadmap_shared.errors import problem_responses
from roadmap_shared.fields import BigIdPath
from roadmap_shared.pagination import Page, PageParamsDep
from shop.dependencies import (
    CatalogCacheDep,
    CurrentUser,
    SessionDep,
    SettingsDep,
)
from shop.models import OrderStatus
from shop.orders import checkout as checkouts
from shop.orders import service
from shop.orders.dependencies import IdempotencyDep, OwnOrder
from shop.orders.idempotency import fingerprint
from shop.orders.schemas import CheckoutRequest, OrderPublic, order_public

router = APIRouter(
    prefix="/orders",
    tags=["orders"],
    responses=problem_responses(401),
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Check out: turn your cart into an order",
    response_model=OrderPublic,
    responses={
        **problem_responses(409, 422),
        201: {"description": "The order (replayed with `Idempotent-Replayed: true`)"},
    },
)
async def checkout(
    *,
    body: CheckoutRequest,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    cache: CatalogCacheDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    request_body = body.model_dump(mode="json")
    if replay := await idempotency.claim(fingerprint("POST", request.url.path, request_body)):
        return _order_created(replay.body, status=replay.status, replayed=True)
    pricing = checkouts.Pricing(
        currency=settings.currency,
        tax_rate_basis_points=settings.tax_rate_basis_points,
        low_stock_threshold=settings.low_stock_threshold,
    )
    order = order_public(await checkouts.place_order(session, cache, user, body, pricing))
    order_body = order.model_dump(mode="json")
    await idempotency.remember(status=status.HTTP_201_CREATED, body=order_body)
    return _order_created(order_body, status=status.HTTP_201_CREATED, replayed=False)


def _order_created(order: dict[str, Any], *, status: int, replayed: bool) -> JSONResponse:
    headers = {"Location": f"/orders/{order['id']}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(order, status_code=status, headers=headers)


@router.get("", summary="Your orders, newest first")
async def list_my_orders(
    user: CurrentUser,
    session: SessionDep,
    page: PageParamsDep,
    status: OrderStatus | None = None,
) -> Page[OrderPublic]:
    orders, total = await service.list_orders(session, page, user_id=user.id, status=status)
    return Page.of([order_public(order) for order in orders], total=total, params=page)


@router.get("/{order_id}", summary="One of your orders", responses=problem_responses(404))
async def get_my_order(order: OwnOrder) -> OrderPublic:
    return order_public(order)


@router.post(
    "/{order_id}/cancel",
    summary="Cancel your order while it is pending or paid; its stock goes back",
    responses=problem_responses(404, 409),
)
async def cancel_my_order(
    order_id: BigIdPath,
    user: CurrentUser,
    session: SessionDep,
    cache: CatalogCacheDep,
) -> OrderPublic:
    order = await service.change_status(
        session, cache, order_id, OrderStatus.CANCELLED, owner_id=user.id
    )
    return order_public(order)

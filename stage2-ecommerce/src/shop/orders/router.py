"""A customer's orders: checkout, history, cancellation."""

from typing import Annotated

from fastapi import APIRouter, Header, Request, status
from fastapi.responses import JSONResponse

from roadmap_shared.errors import problem_responses
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
from shop.orders.idempotency import HEADER, fingerprint
from shop.orders.schemas import CheckoutRequest, OrderOut, order_out
from shop.schemas import IdPath

router = APIRouter(
    prefix="/orders",
    tags=["orders"],
    responses=problem_responses(401),
)

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=255,
        pattern=r"^[\x20-\x7e]+$",
        description="Any unique string (a UUID): a retry with the same key and body "
        "returns the first response instead of placing a second order",
    ),
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Check out: turn your cart into an order",
    response_model=OrderOut,
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
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    pricing = checkouts.Pricing(
        currency=settings.currency,
        tax_rate_basis_points=settings.tax_rate_basis_points,
        low_stock_threshold=settings.low_stock_threshold,
    )
    result = await checkouts.checkout(
        session,
        cache,
        user,
        body,
        pricing,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint("POST", request.url.path, body.model_dump(mode="json")),
    )
    headers = {"Location": f"/orders/{result.body['id']}"}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(result.body, status_code=result.status, headers=headers)


@router.get("", summary="Your orders, newest first")
async def list_my_orders(
    user: CurrentUser,
    session: SessionDep,
    page: PageParamsDep,
    status: OrderStatus | None = None,
) -> Page[OrderOut]:
    orders, total = await service.list_orders(session, page, user_id=user.id, status=status)
    return Page.of([order_out(order) for order in orders], total=total, params=page)


@router.get("/{order_id}", summary="One of your orders", responses=problem_responses(404))
async def get_my_order(order_id: IdPath, user: CurrentUser, session: SessionDep) -> OrderOut:
    return order_out(await service.get_own(session, order_id, user.id))


@router.post(
    "/{order_id}/cancel",
    summary="Cancel your order while it is pending or paid; its stock goes back",
    responses=problem_responses(404, 409),
)
async def cancel_my_order(
    order_id: IdPath,
    user: CurrentUser,
    session: SessionDep,
    cache: CatalogCacheDep,
) -> OrderOut:
    order = await service.change_status(
        session, cache, order_id, OrderStatus.CANCELLED, owner_id=user.id
    )
    return order_out(order)

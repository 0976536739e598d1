"""A customer's orders: checkout (a saga across the catalog service), cancellation,
history."""

from fastapi import APIRouter, Response, status

from orders.dependencies import (
    CallerWithoutSession,
    CurrentUser,
    DatabaseDep,
    SessionDep,
    SettingsDep,
)
from orders.models import OrderStatus
from orders.orders import cancellation, service
from orders.orders import checkout as checkouts
from orders.orders.dependencies import CatalogClientDep, IdempotencyKeyHeader, OwnOrder
from orders.orders.schemas import CheckoutRequest, OrderPublic, order_public
from roadmap_shared.errors import problem_responses
from roadmap_shared.fields import BigIdPath
from roadmap_shared.pagination import Page, PageParamsDep

router = APIRouter(prefix="/orders", tags=["orders"], responses=problem_responses(401))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Check out: reserve the cart's stock in the catalog, then place the order",
    responses={
        200: {"description": "The order this Idempotency-Key already placed"},
        202: {
            "description": "The catalog's answer to the confirmation was lost: the order "
            "is `confirming`, and is placed or failed shortly (see its Location)"
        },
        **problem_responses(409, 422, 503),
    },
)
async def checkout(
    *,
    body: CheckoutRequest,
    user: CallerWithoutSession,
    database: DatabaseDep,
    settings: SettingsDep,
    catalog: CatalogClientDep,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> OrderPublic:
    pricing = checkouts.Pricing(
        currency=settings.currency, tax_rate_basis_points=settings.tax_rate_basis_points
    )
    order, placed_now = await checkouts.checkout(
        database, catalog, user, body, pricing, idempotency_key=idempotency_key
    )
    response.headers["Location"] = f"/orders/{order.id}"
    if order.status is OrderStatus.CONFIRMING:
        response.status_code = status.HTTP_202_ACCEPTED
    elif not placed_now:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return order_public(order)


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
    summary="Cancel your placed order: its stock goes back to the catalog (idempotent)",
    responses={
        200: {"description": "The order, cancelled (again, if it already was)"},
        **problem_responses(404, 409, 503),
    },
)
async def cancel_order(
    order_id: BigIdPath,
    user: CallerWithoutSession,
    database: DatabaseDep,
    catalog: CatalogClientDep,
) -> OrderPublic:
    return order_public(await cancellation.cancel(database, catalog, user, order_id))

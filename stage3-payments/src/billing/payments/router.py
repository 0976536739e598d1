from typing import Annotated

from fastapi import APIRouter, Query, status

from billing.dependencies import SessionDep, SettingsDep, StripeGatewayDep
from billing.organizations import repository as organizations
from billing.organizations.dependencies import BillingManager
from billing.payments import repository, service
from billing.payments.catalogue import PRICES
from billing.payments.schemas import (
    CheckoutCreated,
    PaymentCreate,
    PaymentCreated,
    PaymentPublic,
    PricePublic,
    RefundCreate,
    RefundPublic,
)
from roadmap_shared.errors import NotFound, problem_responses
from roadmap_shared.fields import BigIdPath

prices_router = APIRouter(prefix="/prices", tags=["payments"])
router = APIRouter(prefix="/organizations/{organization_id}/payments", tags=["payments"])

STRIPE_ERRORS = (402, 502, 503)


@prices_router.get("", summary="What can be bought, and at which price")
async def list_prices() -> list[PricePublic]:
    return [
        PricePublic(product=product, amount=p.amount, currency=p.currency, credits=p.credits)
        for product, p in PRICES.items()
    ]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Start a payment for a product; confirm it client-side with the client secret",
    responses=problem_responses(401, 403, 404, *STRIPE_ERRORS),
)
async def create_payment(
    body: PaymentCreate, manager: BillingManager, session: SessionDep, gateway: StripeGatewayDep
) -> PaymentCreated:
    organization = await organizations.get(session, manager.organization_id)
    if organization is None:
        raise NotFound("No such organisation")
    payment = await service.start_payment(
        session, gateway, buyer=manager, organization=organization, product=body.product
    )
    return PaymentCreated(
        **PaymentPublic.model_validate(payment).model_dump(),
        client_secret=payment.client_secret or "",
    )


@router.post(
    "/checkout",
    status_code=status.HTTP_201_CREATED,
    summary="Start a payment for a product on Stripe's hosted Checkout page",
    responses=problem_responses(401, 403, 404, *STRIPE_ERRORS),
)
async def create_checkout(
    body: PaymentCreate,
    manager: BillingManager,
    session: SessionDep,
    gateway: StripeGatewayDep,
    settings: SettingsDep,
) -> CheckoutCreated:
    organization = await organizations.get(session, manager.organization_id)
    if organization is None:
        raise NotFound("No such organisation")
    payment, checkout_url = await service.start_checkout(
        session, gateway, settings, buyer=manager, organization=organization, product=body.product
    )
    return CheckoutCreated(
        **PaymentPublic.model_validate(payment).model_dump(), checkout_url=checkout_url
    )


@router.get(
    "",
    summary="The organisation's payments, newest first",
    responses=problem_responses(401, 403, 404),
)
async def list_payments(
    manager: BillingManager,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[PaymentPublic]:
    payments = await repository.list_for(session, manager.organization_id, limit=limit)
    return [PaymentPublic.model_validate(payment) for payment in payments]


@router.get("/{payment_id}", summary="One payment", responses=problem_responses(401, 403, 404))
async def get_payment(
    payment_id: BigIdPath, manager: BillingManager, session: SessionDep
) -> PaymentPublic:
    payment = await repository.get(session, manager.organization_id, payment_id)
    if payment is None:
        raise NotFound("No such payment")
    return PaymentPublic.model_validate(payment)


@router.post(
    "/{payment_id}/refunds",
    status_code=status.HTTP_201_CREATED,
    summary="Refund all or part of a payment (owners and admins)",
    responses=problem_responses(401, 403, 404, 409, *STRIPE_ERRORS),
)
async def refund_payment(
    payment_id: BigIdPath,
    body: RefundCreate,
    manager: BillingManager,
    session: SessionDep,
    gateway: StripeGatewayDep,
) -> RefundPublic:
    refund = await service.refund(
        session,
        gateway,
        requester=manager,
        payment_id=payment_id,
        amount=body.amount,
        reason=body.reason,
    )
    return RefundPublic.model_validate(refund)

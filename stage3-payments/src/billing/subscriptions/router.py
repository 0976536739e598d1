from fastapi import APIRouter, status

from billing.dependencies import (
    OwnTransactionsDep,
    SessionDep,
    SettingsDep,
    StripeGatewayDep,
)
from billing.organizations import repository as organizations
from billing.organizations.dependencies import BillingManager, OrgMember
from billing.plans import TERMS, Interval
from billing.subscriptions import repository, service
from billing.subscriptions.dependencies import OrgEntitlements
from billing.subscriptions.entitlements import PLANS, Entitlements
from billing.subscriptions.schemas import (
    BillingPortalCreated,
    ChangeRequested,
    PlanPublic,
    SubscriptionChange,
    SubscriptionCheckoutCreate,
    SubscriptionCheckoutCreated,
    SubscriptionPublic,
)
from roadmap_shared.errors import NotFound, problem_responses

plans_router = APIRouter(prefix="/plans", tags=["subscriptions"])
router = APIRouter(prefix="/organizations/{organization_id}", tags=["subscriptions"])

STRIPE_ERRORS = (502, 503)


@plans_router.get("", summary="The plans that can be subscribed to")
async def list_plans() -> list[PlanPublic]:
    return [
        PlanPublic(
            plan=plan,
            intervals=list(Interval),
            trial_days=terms.trial_days,
            per_seat=terms.per_seat,
            max_projects=PLANS[plan.value].max_projects,
            max_seats=None if terms.per_seat else PLANS[plan.value].max_seats,
        )
        for plan, terms in TERMS.items()
    ]


@router.get(
    "/entitlements",
    summary="What the organisation's plan allows now",
    responses=problem_responses(401, 404),
)
async def get_entitlements(entitlements: OrgEntitlements) -> Entitlements:
    return entitlements


@router.get(
    "/subscription",
    summary="The organisation's subscription, as of Stripe's newest event",
    responses=problem_responses(401, 404),
)
async def get_subscription(membership: OrgMember, session: SessionDep) -> SubscriptionPublic:
    subscription = await repository.current(session, membership.organization_id)
    if subscription is None:
        raise NotFound("The organisation has no subscription: it is on the free plan")
    return SubscriptionPublic.model_validate(subscription)


@router.post(
    "/subscription/checkout",
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe to a plan on Stripe's hosted Checkout page (owners and admins)",
    responses=problem_responses(401, 403, 404, 409, *STRIPE_ERRORS),
)
async def start_subscription_checkout(
    *,
    body: SubscriptionCheckoutCreate,
    manager: BillingManager,
    session: SessionDep,
    transactions: OwnTransactionsDep,
    gateway: StripeGatewayDep,
    settings: SettingsDep,
) -> SubscriptionCheckoutCreated:
    organization = await organizations.get(session, manager.organization_id)
    if organization is None:
        raise NotFound("No such organisation")
    session_id, url = await service.start_checkout(
        session, transactions, gateway, settings, organization=organization, request=body
    )
    return SubscriptionCheckoutCreated(checkout_url=url, stripe_checkout_session_id=session_id)


@router.patch(
    "/subscription",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Change the plan, interval or seats, with proration (owners and admins)",
    responses=problem_responses(401, 403, 404, 409, *STRIPE_ERRORS),
)
async def change_subscription(
    body: SubscriptionChange,
    manager: BillingManager,
    session: SessionDep,
    gateway: StripeGatewayDep,
    settings: SettingsDep,
) -> ChangeRequested:
    subscription, requested = await service.change_plan(
        session, gateway, settings, manager=manager, change=body
    )
    return ChangeRequested(
        requested=requested, subscription=SubscriptionPublic.model_validate(subscription)
    )


@router.post(
    "/subscription/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Cancel at the end of the paid period (owners and admins)",
    responses=problem_responses(401, 403, 404, 409, *STRIPE_ERRORS),
)
async def cancel_subscription(
    manager: BillingManager, session: SessionDep, gateway: StripeGatewayDep
) -> ChangeRequested:
    subscription, requested = await service.set_cancel_at_period_end(
        session, gateway, manager=manager, cancel=True
    )
    return ChangeRequested(
        requested=requested, subscription=SubscriptionPublic.model_validate(subscription)
    )


@router.post(
    "/subscription/resume",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Keep a subscription set to cancel at its period's end (owners and admins)",
    responses=problem_responses(401, 403, 404, 409, *STRIPE_ERRORS),
)
async def resume_subscription(
    manager: BillingManager, session: SessionDep, gateway: StripeGatewayDep
) -> ChangeRequested:
    subscription, requested = await service.set_cancel_at_period_end(
        session, gateway, manager=manager, cancel=False
    )
    return ChangeRequested(
        requested=requested, subscription=SubscriptionPublic.model_validate(subscription)
    )


@router.post(
    "/billing-portal",
    status_code=status.HTTP_201_CREATED,
    summary="A link to Stripe's Billing Portal: invoices, payment methods (owners and admins)",
    responses=problem_responses(401, 403, 404, 409, *STRIPE_ERRORS),
)
async def create_billing_portal(
    manager: BillingManager,
    session: SessionDep,
    gateway: StripeGatewayDep,
    settings: SettingsDep,
) -> BillingPortalCreated:
    organization = await organizations.get(session, manager.organization_id)
    if organization is None:
        raise NotFound("No such organisation")
    url = await service.billing_portal_url(gateway, settings, organization=organization)
    return BillingPortalCreated(url=url)

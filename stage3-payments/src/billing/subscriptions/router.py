from fastapi import APIRouter

from billing.subscriptions.dependencies import OrgEntitlements
from billing.subscriptions.entitlements import Entitlements
from roadmap_shared.errors import problem_responses

router = APIRouter(prefix="/organizations/{organization_id}", tags=["subscriptions"])


@router.get(
    "/entitlements",
    summary="What the organisation's plan allows now",
    responses=problem_responses(401, 404),
)
async def get_entitlements(entitlements: OrgEntitlements) -> Entitlements:
    return entitlements

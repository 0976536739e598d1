from typing import Annotated

from fastapi import Depends

from billing.dependencies import SessionDep, SettingsDep
from billing.organizations.dependencies import OrgMember
from billing.subscriptions import repository
from billing.subscriptions.entitlements import Entitlements, entitlements_for
from roadmap_shared.database import utcnow


async def get_entitlements(
    membership: OrgMember, session: SessionDep, settings: SettingsDep
) -> Entitlements:
    subscription = await repository.current(session, membership.organization_id)
    return entitlements_for(subscription, now=utcnow(), grace=settings.dunning_grace)


OrgEntitlements = Annotated[Entitlements, Depends(get_entitlements)]

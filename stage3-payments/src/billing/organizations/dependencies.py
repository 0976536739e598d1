"""Who may act on an organisation's routes (`/organizations/{organization_id}/...`).

Both guards first scope the transaction to the organisation (row-level security, see
billing.tenancy), then look up the caller's membership. Someone who is not a member gets
404, as if the organisation did not exist: its existence is not theirs to learn.
"""

from typing import Annotated

from fastapi import Depends

from billing.dependencies import CurrentUser, SessionDep
from billing.models import Membership
from billing.organizations import repository
from billing.tenancy import act_for_organization
from roadmap_shared.errors import Forbidden, NotFound
from roadmap_shared.fields import BigIdPath


async def get_membership(
    organization_id: BigIdPath, user: CurrentUser, session: SessionDep
) -> Membership:
    await act_for_organization(session, organization_id, user_id=user.id)
    membership = await repository.membership(session, organization_id, user.id)
    if membership is None:
        raise NotFound("No such organisation")
    return membership


OrgMember = Annotated[Membership, Depends(get_membership)]


async def get_billing_manager(membership: OrgMember) -> Membership:
    if not membership.role.manages_billing:
        raise Forbidden("Only the organisation's owners and admins may do this")
    return membership


BillingManager = Annotated[Membership, Depends(get_billing_manager)]

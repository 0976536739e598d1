from fastapi import APIRouter, status

from billing.dependencies import CurrentUser, SessionDep
from billing.organizations import repository, service
from billing.organizations.dependencies import BillingManager, OrgMember
from billing.organizations.schemas import (
    MemberAdd,
    MemberPublic,
    MyOrganization,
    OrganizationCreate,
    OrganizationPublic,
)
from billing.tenancy import act_as_user
from roadmap_shared.errors import NotFound, problem_responses

router = APIRouter(prefix="/organizations", tags=["organizations"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an organisation; you become its owner",
    responses=problem_responses(401),
)
async def create_organization(
    body: OrganizationCreate, user: CurrentUser, session: SessionDep
) -> OrganizationPublic:
    organization = await service.create(session, name=body.name, owner=user)
    return OrganizationPublic.model_validate(organization)


@router.get("", summary="The organisations you belong to", responses=problem_responses(401))
async def list_my_organizations(user: CurrentUser, session: SessionDep) -> list[MyOrganization]:
    await act_as_user(session, user.id)
    rows = await repository.organizations_of(session, user.id)
    return [MyOrganization(id=org.id, name=org.name, role=role) for org, role in rows]


@router.get(
    "/{organization_id}",
    summary="One organisation you belong to",
    responses=problem_responses(401, 404),
)
async def get_organization(membership: OrgMember, session: SessionDep) -> MyOrganization:
    organization = await repository.get(session, membership.organization_id)
    if organization is None:  # deleted since the membership was read
        raise NotFound("No such organisation")
    return MyOrganization(id=organization.id, name=organization.name, role=membership.role)


@router.get(
    "/{organization_id}/members",
    summary="The organisation's members",
    responses=problem_responses(401, 404),
)
async def list_members(membership: OrgMember, session: SessionDep) -> list[MemberPublic]:
    rows = await repository.members(session, membership.organization_id)
    return [
        MemberPublic(user_id=user.id, email=user.email, name=user.name, role=role)
        for user, role in rows
    ]


@router.post(
    "/{organization_id}/members",
    status_code=status.HTTP_201_CREATED,
    summary="Add an existing user to the organisation (owners and admins)",
    responses=problem_responses(401, 403, 404, 409),
)
async def add_member(body: MemberAdd, manager: BillingManager, session: SessionDep) -> MemberPublic:
    user, membership = await service.add_member(
        session,
        organization_id=manager.organization_id,
        granted_by=manager,
        email=body.email,
        role=body.role,
    )
    return MemberPublic(user_id=user.id, email=user.email, name=user.name, role=membership.role)

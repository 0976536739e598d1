"""Organisations (the tenants) and who belongs to them, with which role."""

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.models import Membership, Organization, Role, User
from billing.tenancy import act_for_organization
from billing.users import repository as users
from roadmap_shared.errors import Conflict, Forbidden, NotFound


async def create(session: AsyncSession, *, name: str, owner: User) -> Organization:
    organization = Organization(name=name)
    session.add(organization)
    await session.flush()
    # From here on the transaction acts for the new organisation: the membership insert
    # passes the policy's WITH CHECK only because the setting names this organisation.
    await act_for_organization(session, organization.id, user_id=owner.id)
    session.add(Membership(organization_id=organization.id, user_id=owner.id, role=Role.OWNER))
    await session.flush()
    return organization


async def add_member(
    session: AsyncSession, *, organization_id: int, granted_by: Membership, email: str, role: Role
) -> tuple[User, Membership]:
    if role is Role.OWNER and granted_by.role is not Role.OWNER:
        raise Forbidden("Only an owner can make someone an owner")
    user = await users.get_by_email(session, email)
    if user is None:
        raise NotFound("There is no account with this email address")
    membership = Membership(organization_id=organization_id, user_id=user.id, role=role)
    session.add(membership)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as duplicate:
        raise Conflict("This user is already a member") from duplicate
    return user, membership

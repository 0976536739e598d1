from collections.abc import Sequence

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.models import Membership, Organization, Role, User


async def get(session: AsyncSession, organization_id: int) -> Organization | None:
    return await session.get(Organization, organization_id)


async def membership(
    session: AsyncSession, organization_id: int, user_id: int
) -> Membership | None:
    result = await session.scalars(
        select(Membership).where(
            Membership.organization_id == organization_id, Membership.user_id == user_id
        )
    )
    return result.one_or_none()


async def organizations_of(
    session: AsyncSession, user_id: int
) -> Sequence[Row[Organization, Role]]:
    result = await session.execute(
        select(Organization, Membership.role)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.user_id == user_id)
        .order_by(Organization.id)
    )
    return result.all()


async def members(session: AsyncSession, organization_id: int) -> Sequence[Row[User, Role]]:
    result = await session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == organization_id)
        .order_by(User.id)
    )
    return result.all()


async def member_count(session: AsyncSession, organization_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.organization_id == organization_id)
    )
    return count or 0


async def owner_emails(session: AsyncSession, organization_id: int) -> list[str]:
    """Where billing news goes: every owner of the organisation."""
    result = await session.scalars(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == organization_id, Membership.role == Role.OWNER)
        .order_by(User.id)
    )
    return list(result.all())

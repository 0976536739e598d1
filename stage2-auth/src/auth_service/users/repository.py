"""SQL for users. Functions take the request's session and never commit: the request does."""

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.models import User, UserRole
from roadmap_shared.pagination import PageParams


async def get_by_id(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    """`email` must be normalised, as stored (see `auth.email_address`)."""
    return await session.scalar(select(User).where(User.email == email))


async def lock(session: AsyncSession, user: User) -> None:
    """Reads the user's row again, locked until the transaction ends (`FOR NO KEY UPDATE`:
    it blocks other writers of the row, not inserts that merely refer to it)."""
    await session.refresh(user, with_for_update={"key_share": True})


async def add_unless_email_taken(session: AsyncSession, user: User) -> bool:
    """Inserts `user`; False if the address is taken.

    The unique constraint decides, not a SELECT beforehand: of two registrations racing
    with one address, both would pass the SELECT, and only the constraint stops the second.
    The savepoint keeps the request's transaction usable after the refused INSERT.
    """
    try:
        async with session.begin_nested():
            session.add(user)
    except IntegrityError:
        return False
    return True


async def list_users(
    session: AsyncSession, *, role: UserRole | None, is_active: bool | None, page: PageParams
) -> tuple[Sequence[User], int]:
    """One page of users in a stable order (by id), and how many match in all."""
    query = select(User)
    if role is not None:
        query = query.where(User.role == role)
    if is_active is not None:
        query = query.where(User.is_active == is_active)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    users = await session.scalars(query.order_by(User.id).offset(page.offset).limit(page.size))
    return users.all(), total or 0

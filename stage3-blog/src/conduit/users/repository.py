"""SQL for users. Functions take the request's session; none of them commits."""

from sqlalchemy import Integer, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from conduit.models import User
from roadmap_shared.database import core_connection

# Built once: every signed-in read runs it (see `conduit.dependencies.get_viewer_id`).
USER_EXISTS = select(User.id).where(User.id == bindparam("user_id", type_=Integer))


async def get_by_id(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def exists(session: AsyncSession, user_id: int) -> bool:
    connection = await core_connection(session)
    return await connection.scalar(USER_EXISTS, {"user_id": user_id}) is not None


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.lower()))


async def get_by_username(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(User.username == username))


async def taken_fields(
    session: AsyncSession, *, username: str | None, email: str | None, except_id: int | None
) -> list[str]:
    """Which of `username` and `email` another account already uses."""
    conditions = []
    if username is not None:
        conditions.append(User.username == username)
    if email is not None:
        conditions.append(User.email == email.lower())
    if not conditions:
        return []
    query = select(User.username, User.email).where(or_(*conditions))
    if except_id is not None:
        query = query.where(User.id != except_id)
    taken = []
    for other_username, other_email in (await session.execute(query)).all():
        if username is not None and other_username == username:
            taken.append("username")
        if email is not None and other_email == email.lower():
            taken.append("email")
    return sorted(set(taken))

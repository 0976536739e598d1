from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from social.models import User


async def get(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.scalars(select(User).where(User.email == email.lower()))
    return result.one_or_none()


async def get_by_username(session: AsyncSession, username: str) -> User | None:
    result = await session.scalars(select(User).where(User.username == username.lower()))
    return result.one_or_none()

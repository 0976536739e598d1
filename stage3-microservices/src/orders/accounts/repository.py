from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from orders.models import Role, User


async def get(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email))


async def add_unless_email_taken(
    session: AsyncSession, *, email: str, name: str, password_hash: str, role: Role
) -> User | None:
    """The new user, or None when the email is taken. One statement, so two concurrent
    sign-ups with one address cannot both pass a "does it exist?" check."""
    statement = (
        insert(User)
        .values(email=email, name=name, password_hash=password_hash, role=role)
        .on_conflict_do_nothing(index_elements=[User.email])
        .returning(User)
    )
    return await session.scalar(statement)


async def admin_emails(session: AsyncSession) -> Sequence[str]:
    query = select(User.email).where(User.role == Role.ADMIN).order_by(User.id)
    return (await session.scalars(query)).all()

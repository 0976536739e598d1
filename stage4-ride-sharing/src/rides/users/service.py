"""Accounts: riders and drivers, kept minimal; this stage is about what comes after."""

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rides.models import Role, User
from rides.users import repository
from roadmap_shared.errors import Conflict, Unauthorized
from roadmap_shared.security.passwords import check_password, hash_password


async def register(
    session: AsyncSession, *, email: str, name: str, password: str, role: Role
) -> User:
    user = User(
        email=email.lower(), name=name, password_hash=await hash_password(password), role=role
    )
    session.add(user)
    try:
        # A savepoint, so a taken address (also when two sign-ups race) is a 409, not a 500.
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as taken:
        raise Conflict("An account with this email address already exists") from taken
    return user


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User:
    user = await repository.get_by_email(session, email)
    # As long for an unknown address as for a wrong password: no account enumeration.
    checked = await check_password(user.password_hash if user else None, password)
    if user is None or not checked.matches:
        raise Unauthorized("Wrong email or password")
    if checked.upgraded_hash is not None:
        user.password_hash = checked.upgraded_hash
    return user

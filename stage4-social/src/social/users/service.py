"""Accounts, kept minimal: this stage is about what happens between them."""

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.errors import Conflict, Unauthorized
from roadmap_shared.security.passwords import check_password, hash_password
from social.models import User
from social.users import repository


async def register(
    session: AsyncSession, *, username: str, email: str, display_name: str, bio: str, password: str
) -> User:
    user = User(
        username=username.lower(),
        email=email.lower(),
        display_name=display_name,
        bio=bio,
        password_hash=await hash_password(password),
    )
    session.add(user)
    try:
        # A savepoint, so a taken name or address (also when two sign-ups race) is a 409.
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as taken:
        raise Conflict("An account with this username or email address already exists") from taken
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

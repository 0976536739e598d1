"""Sign-up and sign-in. This stage keeps accounts minimal: stage2-auth covers refresh
tokens, email verification and password resets in depth."""

from sqlalchemy.ext.asyncio import AsyncSession

from orders.accounts import repository
from orders.models import Role, User
from roadmap_shared.errors import Conflict, Unauthorized
from roadmap_shared.security.passwords import check_password, hash_password


def normalise_email(email: str) -> str:
    # Lower-cased whole: the local part is case-sensitive in theory, never in practice,
    # and two accounts differing only in case are a support ticket waiting to happen.
    return email.strip().lower()


async def register(
    session: AsyncSession, *, email: str, name: str, password: str, role: Role = Role.CUSTOMER
) -> User:
    user = await repository.add_unless_email_taken(
        session,
        email=normalise_email(email),
        name=name,
        password_hash=await hash_password(password),
        role=role,
    )
    if user is None:
        raise Conflict("An account with this email already exists")
    return user


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User:
    user = await repository.get_by_email(session, normalise_email(email))
    # Verified even when there is no such user (against a dummy hash), so a wrong email
    # and a wrong password take the same time and get the same answer.
    checked = await check_password(user.password_hash if user else None, password)
    if user is None or not checked.matches:
        raise Unauthorized("The email or password is incorrect")
    if checked.upgraded_hash is not None:  # made with older hashing parameters
        user.password_hash = checked.upgraded_hash
    return user

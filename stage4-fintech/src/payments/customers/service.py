"""Sign-up and sign-in, as stage3-microservices' orders service does them (argon2id
hashes, the same answer and time for a wrong email and a wrong password)."""

from sqlalchemy.ext.asyncio import AsyncSession

from payments.customers import repository
from payments.models import Customer, Role
from roadmap_shared.errors import Conflict, Unauthorized
from roadmap_shared.security.passwords import check_password, hash_password


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def register(
    session: AsyncSession, *, email: str, name: str, password: str, role: Role = Role.CUSTOMER
) -> Customer:
    customer = await repository.add_unless_email_taken(
        session,
        email=normalise_email(email),
        name=name,
        password_hash=await hash_password(password),
        role=role,
    )
    if customer is None:
        raise Conflict("An account with this email already exists")
    return customer


async def authenticate(session: AsyncSession, *, email: str, password: str) -> Customer:
    customer = await repository.get_by_email(session, normalise_email(email))
    # Verified even when there is no such customer (against a dummy hash), so a wrong
    # email and a wrong password take the same time and get the same answer.
    checked = await check_password(customer.password_hash if customer else None, password)
    if customer is None or not checked.matches:
        raise Unauthorized("The email or password is incorrect")
    if checked.upgraded_hash is not None:  # made with older hashing parameters
        customer.password_hash = checked.upgraded_hash
    return customer

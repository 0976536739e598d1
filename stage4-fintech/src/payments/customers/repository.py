import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from payments.models import Customer, Role


async def get(session: AsyncSession, customer_id: uuid.UUID) -> Customer | None:
    return await session.get(Customer, customer_id)


async def get_by_email(session: AsyncSession, email: str) -> Customer | None:
    return await session.scalar(select(Customer).where(Customer.email == email))


async def add_unless_email_taken(
    session: AsyncSession, *, email: str, name: str, password_hash: str, role: Role
) -> Customer | None:
    """The new customer, or None when the email is taken. One statement, so two concurrent
    sign-ups with one address cannot both pass a "does it exist?" check."""
    statement = (
        insert(Customer)
        .values(id=uuid.uuid4(), email=email, name=name, password_hash=password_hash, role=role)
        .on_conflict_do_nothing(index_elements=[Customer.email])
        .returning(Customer)
    )
    return await session.scalar(statement)

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from billing.models import Payment


async def get(session: AsyncSession, organization_id: int, payment_id: int) -> Payment | None:
    result = await session.scalars(
        select(Payment).where(Payment.organization_id == organization_id, Payment.id == payment_id)
    )
    return result.one_or_none()


async def list_for(session: AsyncSession, organization_id: int, *, limit: int) -> Sequence[Payment]:
    result = await session.scalars(
        select(Payment)
        .where(Payment.organization_id == organization_id)
        .order_by(Payment.id.desc())
        .limit(limit)
    )
    return result.all()


async def lock(session: AsyncSession, organization_id: int, payment_id: int) -> Payment | None:
    """The payment, its row locked until the transaction ends: a concurrent refund of the
    same payment waits here until this one has committed or rolled back."""
    result = await session.scalars(
        select(Payment)
        .where(Payment.organization_id == organization_id, Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.one_or_none()


async def add_refunded(session: AsyncSession, payment_id: int, amount: int) -> None:
    """Raises the refunded total in SQL (`amount_refunded + :amount`, not a value computed
    in Python), so the CHECK `refunds_within_captured` judges the real new total and
    refuses one above what was captured (IntegrityError), whatever the caller believed."""
    await session.execute(
        update(Payment)
        .where(Payment.id == payment_id)
        .values(amount_refunded=Payment.amount_refunded + amount)
        .execution_options(synchronize_session=False)
    )

"""Settling a refund from what Stripe says of it: succeeded, or failed and its reserved
amount given back to the payment, exactly once.

Called with Stripe's answer when the refund is made, and by the worker with the refund as
Stripe has it now (re-read, whichever event brought it). Each change is one conditional
UPDATE, so the same news twice, in any order, from two workers at once, changes the row
once: a refund moves from pending to succeeded, and from pending or succeeded to failed
(a bank can return a refund after Stripe called it succeeded); failed is final.
"""

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from billing.models import Payment, Refund, RefundStatus

# Stripe's refund statuses that end it without the money reaching the customer.
STRIPE_FAILED = frozenset({"failed", "canceled"})


async def succeed_refund(session: AsyncSession, refund_id: int) -> None:
    await session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status == RefundStatus.PENDING)
        .values(status=RefundStatus.SUCCEEDED)
    )


async def fail_refund(session: AsyncSession, refund_id: int) -> bool:
    """Marks the refund failed and gives its amount back to the payment; True if this call
    did it. The give-back happens only when the status moved: never twice."""
    failed = await session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status != RefundStatus.FAILED)
        .values(status=RefundStatus.FAILED)
        .returning(Refund.payment_id, Refund.amount)
    )
    row = failed.one_or_none()
    if row is None:
        return False
    await session.execute(
        update(Payment)
        .where(Payment.id == row.payment_id)
        .values(amount_refunded=Payment.amount_refunded - row.amount)
    )
    return True


async def settle_refund(
    session: AsyncSession, refund_id: int, stripe_refund: dict[str, Any]
) -> None:
    """Applies Stripe's refund (a dict, as retrieved) to ours. A refund still pending at
    Stripe changes nothing but the id we keep of it."""
    await session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.stripe_refund_id.is_(None))
        .values(stripe_refund_id=stripe_refund["id"])
    )
    if stripe_refund.get("status") == "succeeded":
        await succeed_refund(session, refund_id)
    elif stripe_refund.get("status") in STRIPE_FAILED:
        await fail_refund(session, refund_id)

from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from billing.models import DisputeStatus, Payment, Subscription, SubscriptionStatus

# Statuses that describe the organisation's current plan, newest first.
_CURRENT = [status for status in SubscriptionStatus if status is not SubscriptionStatus.CANCELED]


async def current(session: AsyncSession, organization_id: int) -> Subscription | None:
    result = await session.scalars(
        select(Subscription)
        .where(Subscription.organization_id == organization_id, Subscription.status.in_(_CURRENT))
        .order_by(Subscription.id.desc())
        .limit(1)
    )
    return result.one_or_none()


async def apply_state(session: AsyncSession, *, event_created: int, values: dict[str, Any]) -> None:
    """Inserts or updates our copy, unless it already reflects a newer event: a late
    `customer.subscription.updated` never overwrites what a later one said."""
    statement = insert(Subscription).values(**values, last_event_created=event_created)
    updated = {name: statement.excluded[name] for name in (*values, "last_event_created")}
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Subscription.stripe_subscription_id],
            set_=updated,
            where=Subscription.last_event_created <= event_created,
        )
    )


async def mark_payment_failed(
    session: AsyncSession, stripe_subscription_id: str, *, event_created: int, at: datetime
) -> None:
    await session.execute(
        update(Subscription)
        .where(
            Subscription.stripe_subscription_id == stripe_subscription_id,
            Subscription.last_event_created <= event_created,
        )
        .values(
            status=SubscriptionStatus.PAST_DUE,
            # The grace period runs from the first failure, not from each retry's.
            past_due_since=func.coalesce(Subscription.past_due_since, at),
            last_event_created=event_created,
        )
    )


async def mark_paid(
    session: AsyncSession, stripe_subscription_id: str, *, event_created: int
) -> None:
    await session.execute(
        update(Subscription)
        .where(
            Subscription.stripe_subscription_id == stripe_subscription_id,
            Subscription.last_event_created <= event_created,
        )
        .values(
            status=SubscriptionStatus.ACTIVE, past_due_since=None, last_event_created=event_created
        )
    )


async def refreeze(session: AsyncSession, organization_id: int) -> None:
    """Frozen while one of the organisation's disputes is open, or lost and not yet
    acknowledged: derived from every payment, so the order of the events does not matter.

    The subscriptions' rows are locked first, and the disputes read by a later statement
    (a new snapshot): two transactions changing two disputes take turns here, and the
    second sees the first's committed change, not the state before it."""
    await session.execute(
        select(Subscription.id)
        .where(Subscription.organization_id == organization_id)
        .with_for_update()
    )
    unsettled = exists().where(
        Payment.organization_id == organization_id,
        or_(
            Payment.dispute_status == DisputeStatus.OPEN,
            and_(
                Payment.dispute_status == DisputeStatus.LOST,
                Payment.loss_acknowledged_at.is_(None),
            ),
        ),
    )
    await session.execute(
        update(Subscription)
        .where(Subscription.organization_id == organization_id)
        .values(frozen_by_dispute=unsettled)
    )

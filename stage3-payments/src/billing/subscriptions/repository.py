from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from billing.models import Subscription, SubscriptionStatus

# Statuses that describe the organisation's current plan, newest first.
_CURRENT = [status for status in SubscriptionStatus if status is not SubscriptionStatus.CANCELED]
# Statuses in which the grace period that started with the first failed invoice still runs.
_OVERDUE = [SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID]


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
    updated: dict[str, Any] = {
        name: statement.excluded[name] for name in (*values, "last_event_created")
    }
    # A newer state that is not overdue ends the grace period: otherwise a failed invoice's
    # mark would outlive the invoice paid after it whenever that one arrived too late.
    # Every applied event moves it, even within one second of the last (`created` does not):
    # a change's idempotency key is made from it (subscriptions.service).
    updated["updated_at"] = func.clock_timestamp()
    updated["past_due_since"] = case(
        (statement.excluded.status.in_(_OVERDUE), Subscription.past_due_since), else_=None
    )
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
            # Paid restores a subscription in dunning; a trial's invoice (of 0) stays trialing.
            status=case(
                (Subscription.status.in_(_OVERDUE), SubscriptionStatus.ACTIVE),
                else_=Subscription.status,
            ),
            past_due_since=None,
            last_event_created=event_created,
        )
    )


async def freeze_for_dispute(session: AsyncSession, organization_id: int) -> None:
    await session.execute(
        update(Subscription)
        .where(Subscription.organization_id == organization_id)
        .values(frozen_by_dispute=True)
    )


async def count_for(session: AsyncSession, organization_id: int) -> int:
    """How many subscriptions the organisation has had, ended ones included."""
    count = await session.scalar(
        select(func.count())
        .select_from(Subscription)
        .where(Subscription.organization_id == organization_id)
    )
    return count or 0

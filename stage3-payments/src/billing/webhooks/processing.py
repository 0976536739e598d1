"""The worker's side of the inbox: claim due events, handle each, retry with backoff,
sweep events a dead worker left claimed, prune old processed events."""

import logging
from datetime import datetime, timedelta

from billing.config import Settings
from billing.stripe_gateway import StripeGateway
from billing.webhooks import handlers, inbox
from roadmap_shared.database import Database, utcnow

logger = logging.getLogger(__name__)


async def process_due_events(
    database: Database, gateway: StripeGateway, settings: Settings, *, now: datetime | None = None
) -> int:
    """Handles the events that are due; returns how many were claimed."""
    now = now or utcnow()
    async with database.sessionmaker() as session, session.begin():
        claimed = await inbox.claim(session, now=now, limit=settings.inbox_batch_size)
    for event_id in claimed:
        await process_one(database, gateway, settings, event_id)
    return len(claimed)


async def process_one(
    database: Database, gateway: StripeGateway, settings: Settings, event_id: str
) -> None:
    try:
        async with database.sessionmaker() as session, session.begin():
            event = await inbox.get_claimed(session, event_id)
            if event is None:  # finished meanwhile, or swept back and claimed by another
                return
            attempts = event.attempts
            # The effect and the `processed` mark commit together, or neither does.
            await handlers.handle(session, gateway, event.payload)
            await inbox.mark_processed(session, event_id, now=utcnow())
    except Exception as failure:
        logger.warning("webhook event %s failed (attempt %s)", event_id, attempts, exc_info=True)
        retry_at = (
            None
            if attempts >= settings.inbox_max_attempts
            else utcnow()
            + inbox.retry_delay(attempts, base_seconds=settings.inbox_retry_base_seconds)
        )
        async with database.sessionmaker() as session, session.begin():
            await inbox.mark_failed_attempt(
                session, event_id, error=f"{type(failure).__name__}: {failure}", retry_at=retry_at
            )


async def sweep_stuck_events(
    database: Database, settings: Settings, *, now: datetime | None = None
) -> int:
    claimed_before = (now or utcnow()) - timedelta(seconds=settings.inbox_stuck_after_seconds)
    async with database.sessionmaker() as session, session.begin():
        return await inbox.requeue_stuck(session, claimed_before=claimed_before)


async def prune_processed_events(
    database: Database, settings: Settings, *, now: datetime | None = None
) -> int:
    processed_before = (now or utcnow()) - timedelta(days=settings.inbox_retention_days)
    async with database.sessionmaker() as session, session.begin():
        return await inbox.prune(session, processed_before=processed_before)

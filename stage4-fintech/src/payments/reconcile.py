"""Reconciling the payments left `pending` or `new`, from the worker (`python -m
payments.worker`).

A transfer or payout is `pending` from the moment the ledger reserved its funds until the
fraud check posts or holds it. It can stay there: its `payment.requested` was
dead-lettered (the ledger unreachable through every retry), the worker was down, or the
check's post timed out (DEADLINE_EXCEEDED: the ledger may have posted it). Every pass
takes the payments unchanged for longer than the whole fraud check can take, asks the
ledger what became of each one's transfer (the payment's id is the transfer's id), and
records that:

- posted: the money moved, `completed` (`payment.completed`);
- voided: only a reviewer's rejection voids, `rejected` as the reviewer decided;
- expired: the ledger released the reservation, `rejected` (`expired`);
- still pending: the fraud check never decided. It decides now, as the consumer would
  have: posted, or held for a reviewer;
- not in the ledger: it answered that it had reserved the funds, and holds nothing under
  that id now (a restore from a backup). Nothing moved and nothing is reserved:
  `rejected` (`not_in_ledger`), logged as an error, never sent again under that id (the
  ledger would reserve the funds anew for a payment nobody is waiting for).

A payment is `new` until the ledger's answer is recorded. It stays `new` when the ledger
never answered (the request answered 503) or the process died before recording the
answer, and the customer did not retry. The pass ends it from what the ledger holds:

- the transfer, as the request would have recorded the answer: posted (a top-up),
  `completed`; pending (a reservation), `pending`, and its `payment.requested` brings
  the fraud check; released meanwhile, `rejected` (`expired`, or `voided` by hand);
- nothing: the ledger never took it. `rejected` (`abandoned`) with `payment.rejected`,
  never sent under that id: a retry of the request is answered with that refusal.

A customer's retry may race this: it renews the payment's `updated_at` before it asks
the ledger (`repository.claim_new`), and the pass ends a `new` payment only if its
`updated_at` is still the one it read before asking (`unchanged_since`): whichever comes
second finds the payment claimed or ended, and leaves it.

Payments `held` for review are left to staff: a reviewer decides, never this pass. Those
waiting longer than the same age are counted (`payments_reviews_overdue`) and logged.

Each ending is a conditional update from `pending` (`decisions.record_*`,
`FraudCheck.decide`) or `new` (as above), so several reconcilers, or one racing a late
fraud check or a retry, end a payment once, with one event. A ledger that does not
answer leaves the payment for the next pass.
"""

import asyncio
import logging
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from payments.fraud import decisions
from payments.fraud.consumer import CHECKED_KINDS, FraudCheck
from payments.ledger_client import LedgerClient, LedgerUnavailable
from payments.metrics import PAYMENTS
from payments.models import OutboxEvent, Payment, PaymentStatus
from payments.payments import events, repository, service
from payments.worker_metrics import OUTBOX_UNPUBLISHED, REVIEWS_OVERDUE
from roadmap_shared.database import Database, utcnow

logger = logging.getLogger(__name__)

# Payments reconciled per pass: bounded, so that a pass after a long outage of the ledger
# holds no more than this in memory; the next pass takes the next batch at once.
RECONCILE_BATCH = 100
NOT_IN_LEDGER = "not_in_ledger"
EXPIRED = "expired"
VOIDED = "voided"
# What the ledger may hold of a `new` payment's transfer, and what the request would have
# recorded. Only a reviewer voids, and only a payment `held`: a transfer voided before its
# payment was recorded was voided by hand.
NEW_ENDINGS: dict[str, tuple[PaymentStatus, str | None]] = {
    "posted": (PaymentStatus.COMPLETED, None),
    "pending": (PaymentStatus.PENDING, None),
    "expired": (PaymentStatus.REJECTED, EXPIRED),
    "voided": (PaymentStatus.REJECTED, VOIDED),
}


async def reconcile(
    database: Database,
    ledger: LedgerClient,
    fraud_check: FraudCheck,
    *,
    older_than: timedelta,
    now: datetime,
) -> int:
    """Reconciles the payments `pending` or `new` since before `now - older_than`, one
    batch; how many of them it found an end for (the rest wait for the ledger to answer)."""
    cutoff = now - older_than
    async with database.sessionmaker() as session:
        stuck = await session.scalars(
            select(Payment)
            .where(
                or_(
                    and_(
                        Payment.status == PaymentStatus.PENDING,
                        Payment.kind.in_(CHECKED_KINDS),
                    ),
                    Payment.status == PaymentStatus.NEW,
                ),
                Payment.updated_at < cutoff,
            )
            .order_by(Payment.updated_at)
            .limit(RECONCILE_BATCH)
        )
        payments = stuck.all()
        await _report_overdue_reviews(session, cutoff)
        await _report_outbox_backlog(session)
    reconciled = 0
    for payment in payments:
        ended = False
        try:
            ended = await _reconcile_one(database, ledger, fraud_check, payment)
        except LedgerUnavailable:
            logger.info("payment %s: the ledger is unavailable; reconciling it later", payment.id)
        except Exception:
            # One payment that cannot be reconciled must not hold back the others.
            logger.exception("payment %s could not be reconciled; trying again later", payment.id)
        if ended:
            reconciled += 1
            continue
        try:
            await _postpone(database, payment)
        except Exception:
            logger.exception("payment %s could not be postponed", payment.id)
    return reconciled


async def _reconcile_one(
    database: Database, ledger: LedgerClient, fraud_check: FraudCheck, payment: Payment
) -> bool:
    """Whether the payment was given an end (here, or by someone else meanwhile)."""
    state = await ledger.transfer_state(payment.id)
    if payment.status is PaymentStatus.NEW:
        await _reconcile_new(database, payment, state)
        return True
    pending = PaymentStatus.PENDING
    async with database.sessionmaker() as session, session.begin():
        if state == "pending":
            # Locked, as the consumer locks it: the check and a late consumer queue.
            locked = await repository.get(session, payment.id, lock=True)
            if locked is not None:
                await fraud_check.decide(session, locked)
        elif state == "posted":
            await decisions.record_completed(session, payment, pending)
        elif state == "voided":
            reason = decisions.REJECTED_BY_REVIEW
            await decisions.record_rejected(session, payment, pending, reason)
        elif state == "expired":
            await decisions.record_rejected(session, payment, pending, EXPIRED)
        else:
            logger.error(
                "payment %s is pending, and the ledger holds no transfer of its id: rejected",
                payment.id,
            )
            await decisions.record_rejected(session, payment, pending, NOT_IN_LEDGER)
    return True


async def _reconcile_new(database: Database, payment: Payment, state: str | None) -> None:
    """Records what the ledger holds of a `new` payment's transfer, unless a request
    claimed the payment since it was read (its retry asks the ledger itself)."""
    async with database.sessionmaker() as session, session.begin():
        if state is None:
            abandoned = await repository.move(
                session,
                payment.id,
                from_statuses=[PaymentStatus.NEW],
                to=PaymentStatus.REJECTED,
                reason=service.ABANDONED,
                unchanged_since=payment.updated_at,
            )
            if abandoned is not None:
                logger.warning("payment %s: never taken by the ledger, abandoned", payment.id)
                events.rejected(session, abandoned, service.ABANDONED)
                PAYMENTS.labels("rejected").inc()
            return
        to, reason = NEW_ENDINGS[state]
        if state == "voided":
            logger.error("payment %s is new, and its transfer was voided: rejected", payment.id)
        await service.record_answer(
            session, payment.id, to, reason=reason, unchanged_since=payment.updated_at
        )


async def _report_overdue_reviews(session: AsyncSession, cutoff: datetime) -> None:
    """Counts the payments held for review since before `cutoff`: staff decide those, so
    this pass only says that they wait."""
    overdue = await session.scalar(
        select(func.count())
        .select_from(Payment)
        .where(Payment.status == PaymentStatus.HELD, Payment.updated_at < cutoff)
    )
    REVIEWS_OVERDUE.set(overdue or 0)
    if overdue:
        logger.warning("payments held for review since before %s: %d", cutoff, overdue)


async def _report_outbox_backlog(session: AsyncSession) -> None:
    unpublished = await session.scalar(
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
    )
    OUTBOX_UNPUBLISHED.set(unpublished or 0)


async def _postpone(database: Database, payment: Payment) -> None:
    """Sends a payment that found no end to the back of the line: passes take the oldest
    first, so a batch of payments that always fail would otherwise be all any pass sees."""
    async with database.sessionmaker() as session, session.begin():
        await session.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.status == payment.status)
            .values(updated_at=func.now())
        )


async def reconcile_forever(
    database: Database,
    ledger: LedgerClient,
    fraud_check: FraudCheck,
    *,
    older_than: timedelta,
    interval_seconds: float,
) -> NoReturn:
    """Reconciles, pass after pass, until cancelled. A failed pass (the database is down)
    is logged and tried again after the interval: the worker outlives an outage."""
    while True:
        reconciled = 0
        try:
            reconciled = await reconcile(
                database, ledger, fraud_check, older_than=older_than, now=utcnow()
            )
        except Exception:
            logger.exception("reconciling payments failed; trying again shortly")
        if reconciled < RECONCILE_BATCH:
            await asyncio.sleep(interval_seconds)

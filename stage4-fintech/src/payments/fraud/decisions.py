"""What the fraud check and a reviewer decide about a reserved payment, carried out: the
ledger first (posting and voiding are idempotent there), then the payment's status and
its event, with a conditional update, so a decision taken twice (a redelivered event, a
reviewer's double click) is announced once."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from payments.ledger_client import LedgerClient, LedgerRefused
from payments.metrics import PAYMENTS
from payments.models import Payment, PaymentStatus
from payments.payments import events, refusals, repository

REJECTED_BY_REVIEW = "rejected_by_review"


async def hold(session: AsyncSession, payment_id: uuid.UUID, rule: str) -> Payment | None:
    held = await repository.move(
        session,
        payment_id,
        from_statuses=[PaymentStatus.PENDING],
        to=PaymentStatus.HELD,
        reason=rule,
    )
    if held is not None:
        events.held(session, held, rule)
        PAYMENTS.labels("held").inc()
    return held


async def complete(
    session: AsyncSession,
    ledger: LedgerClient,
    payment: Payment,
    *,
    from_status: PaymentStatus,
    reviewer: uuid.UUID | None = None,
) -> Payment | None:
    """Posts the reserved transfer and records it; None if the payment was no longer
    `from_status`. A reservation that expired meanwhile rejects the payment instead.
    `reviewer`: the staff member deciding, recorded whatever the outcome."""
    try:
        await ledger.post(payment.id)
    except LedgerRefused as refused:
        reason = refusals.reason_word(refused.reason)
        if reason not in {"expired", "not_pending"}:
            raise
        # Expired: the ledger released it. Not pending: voided, by a rejection whose
        # record never committed (its process died after the ledger answered).
        why = "expired" if reason == "expired" else REJECTED_BY_REVIEW
        return await reject(
            session, ledger, payment, from_status=from_status, reason=why, reviewer=reviewer
        )
    return await record_completed(session, payment, from_status, reviewer=reviewer)


async def record_completed(
    session: AsyncSession,
    payment: Payment,
    from_status: PaymentStatus,
    *,
    reviewer: uuid.UUID | None = None,
) -> Payment | None:
    completed = await repository.move(
        session,
        payment.id,
        from_statuses=[from_status],
        to=PaymentStatus.COMPLETED,
        reviewed_by=reviewer,
    )
    if completed is not None:
        events.completed(session, completed)
        PAYMENTS.labels("completed").inc()
    return completed


async def reject(
    session: AsyncSession,
    ledger: LedgerClient,
    payment: Payment,
    *,
    from_status: PaymentStatus,
    reason: str = REJECTED_BY_REVIEW,
    reviewer: uuid.UUID | None = None,
) -> Payment | None:
    """Releases the reservation and records the rejection; None if the payment was no
    longer `from_status`. A transfer posted already (an approval whose record never
    committed) cannot be released: the money moved, so the payment is recorded completed."""
    try:
        await ledger.void(payment.id)
    except LedgerRefused as refused:
        if refusals.reason_word(refused.reason) != "not_pending":
            raise
        return await record_completed(session, payment, from_status, reviewer=reviewer)
    return await record_rejected(session, payment, from_status, reason, reviewer=reviewer)


async def record_rejected(
    session: AsyncSession,
    payment: Payment,
    from_status: PaymentStatus,
    reason: str,
    *,
    reviewer: uuid.UUID | None = None,
) -> Payment | None:
    rejected = await repository.move(
        session,
        payment.id,
        from_statuses=[from_status],
        to=PaymentStatus.REJECTED,
        reason=reason,
        reviewed_by=reviewer,
    )
    if rejected is not None:
        events.rejected(session, rejected, reason)
        PAYMENTS.labels("rejected").inc()
    return rejected

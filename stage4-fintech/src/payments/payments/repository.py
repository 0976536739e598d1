import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from payments.models import Payment, PaymentKind, PaymentStatus
from roadmap_shared.database import utcnow
from roadmap_shared.pagination import PageParams


async def add_or_get(session: AsyncSession, payment: Payment) -> tuple[Payment, bool]:
    """`payment` stored now (True), or the one stored before under its id (False). One
    statement: of concurrent requests with one Idempotency-Key, one inserts; the others
    wait for it to commit, then read its row."""
    statement = (
        insert(Payment)
        .values(
            id=payment.id,
            customer_id=payment.customer_id,
            kind=payment.kind,
            status=PaymentStatus.NEW,
            debit_account_id=payment.debit_account_id,
            credit_account_id=payment.credit_account_id,
            amount=payment.amount,
            currency=payment.currency,
        )
        .on_conflict_do_nothing(index_elements=[Payment.id])
        .returning(Payment)
    )
    stored = await session.scalar(statement)
    if stored is not None:
        return stored, True
    existing = await session.get(Payment, payment.id, populate_existing=True)
    if existing is None:  # pragma: no cover - a conflict means the row exists
        raise LookupError(f"payment {payment.id} vanished")
    return existing, False


async def move(
    session: AsyncSession,
    payment_id: uuid.UUID,
    *,
    from_statuses: Collection[PaymentStatus],
    to: PaymentStatus,
    reason: str | None = None,
    unchanged_since: datetime | None = None,
    reviewed_by: uuid.UUID | None = None,
) -> Payment | None:
    """The payment, now `to`, if it was in one of `from_statuses` (and, given
    `unchanged_since`, its `updated_at` still that); None if it was not (an earlier
    request, a redelivered event or another reviewer moved it first, a request claimed
    it). The one caller that gets a payment back writes the event: each change is
    announced once. `reviewed_by`: the staff member deciding, recorded with the time."""
    conditions = [Payment.id == payment_id, Payment.status.in_(list(from_statuses))]
    if unchanged_since is not None:
        conditions.append(Payment.updated_at == unchanged_since)
    now = utcnow()
    review = {} if reviewed_by is None else {"reviewed_by": reviewed_by, "reviewed_at": now}
    statement = (
        update(Payment)
        .where(*conditions)
        .values(status=to, reason=reason, updated_at=now, **review)
        .returning(Payment)
        # The returned row replaces what the session holds of the payment: it was read
        # (and locked) before, and would otherwise be answered as it was then.
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return await session.scalar(statement)


async def claim_new(session: AsyncSession, payment_id: uuid.UUID) -> Payment | None:
    """The payment, its `updated_at` renewed, if it is still `new`; None if it is not.
    A request about to ask the ledger again claims the payment so: the reconciler ends a
    `new` payment only if its `updated_at` did not change since it asked the ledger, and
    takes only those unchanged for longer than a request can take."""
    statement = (
        update(Payment)
        .where(Payment.id == payment_id, Payment.status == PaymentStatus.NEW)
        .values(updated_at=utcnow())
        .returning(Payment)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return await session.scalar(statement)


async def get(
    session: AsyncSession, payment_id: uuid.UUID, *, lock: bool = False
) -> Payment | None:
    query = select(Payment).where(Payment.id == payment_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query.execution_options(populate_existing=True))


async def page_of_customer(
    session: AsyncSession, customer_id: uuid.UUID, page: PageParams
) -> tuple[Sequence[Payment], int]:
    mine = Payment.customer_id == customer_id
    total = await session.scalar(select(func.count()).select_from(Payment).where(mine)) or 0
    query = (
        select(Payment)
        .where(mine)
        .order_by(Payment.created_at.desc(), Payment.id.desc())
        .offset(page.offset)
        .limit(page.size)
    )
    return (await session.scalars(query)).all(), total


async def held(session: AsyncSession, page: PageParams) -> tuple[Sequence[Payment], int]:
    waiting = Payment.status == PaymentStatus.HELD
    total = await session.scalar(select(func.count()).select_from(Payment).where(waiting)) or 0
    query = select(Payment).where(waiting).order_by(Payment.created_at, Payment.id)
    return (await session.scalars(query.offset(page.offset).limit(page.size))).all(), total


async def count_recent(
    session: AsyncSession,
    customer_id: uuid.UUID,
    kinds: Collection[PaymentKind],
    *,
    since: datetime,
    until: datetime,
) -> int:
    """The customer's payments of `kinds` made from `since` to `until` (the fraud check's
    velocity). Bounded at both ends, so a payment checked late counts only those before it."""
    query = (
        select(func.count())
        .select_from(Payment)
        .where(
            Payment.customer_id == customer_id,
            Payment.kind.in_(list(kinds)),
            Payment.created_at >= since,
            Payment.created_at <= until,
        )
    )
    return await session.scalar(query) or 0

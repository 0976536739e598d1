"""Moving money at a customer's request, exactly once however often it is sent.

1. The payment's id is derived from the customer and the Idempotency-Key, and the row is
   inserted unless it exists (one statement). Every copy of the request, concurrent or
   retried, finds the same row; a copy with another body is refused.
2. The ledger is asked to move (top-ups) or reserve (transfers, payouts: the fraud check
   decides) the money under that same id, in its own transaction, outside ours: the
   ledger answers `exists` to every copy after the first, so the money moves once.
3. The answer is recorded with a conditional update (`new` -> ...), and the events with
   it: of all the copies, the one whose update matched announces the change.

The ledger not answering leaves the payment `new`, and the request answers 503: the
customer's retry, with the same key, carries on from step 2, after renewing the payment's
`updated_at` (a claim). A payment left `new` and unclaimed for
`PAYMENTS_RECONCILE_AFTER_SECONDS` is ended by the reconciler (payments.reconcile), from
what the ledger holds under its id; it ends it only if no request claimed it meanwhile."""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from payments.ledger_client import LedgerClient, LedgerRefused, LedgerUnavailable
from payments.metrics import PAYMENTS
from payments.models import Customer, Payment, PaymentKind, PaymentStatus
from payments.payments import events, refusals, repository
from roadmap_shared.database import Database
from roadmap_shared.errors import UnprocessableContent

logger = logging.getLogger(__name__)

# Fixed forever: changing it would give a retried request a new id, and move its money
# a second time.
PAYMENT_IDS = uuid.UUID("6c1b8d0e-5f7a-4c52-9a3e-2d4f8b1e7c90")
# The reason of a payment left `new` that the reconciler ended: the ledger holds nothing
# under its id, and no request carried it on in time.
ABANDONED = "abandoned"


def payment_id(customer_id: uuid.UUID, idempotency_key: str) -> uuid.UUID:
    return uuid.uuid5(PAYMENT_IDS, f"{customer_id}/{idempotency_key}")


@dataclass(frozen=True)
class Order:
    """What a request asks to move: from which ledger account to which, and how much."""

    kind: PaymentKind
    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    amount: int
    currency: str

    def is_for(self, payment: Payment) -> bool:
        return (
            payment.kind is self.kind
            and payment.debit_account_id == self.debit_account_id
            and payment.credit_account_id == self.credit_account_id
            and payment.amount == self.amount
            and payment.currency == self.currency
        )


async def request_payment(
    database: Database,
    ledger: LedgerClient,
    customer: Customer,
    order: Order,
    *,
    idempotency_key: str,
) -> tuple[Payment, bool]:
    """The payment, and whether this request created it (False: a retry, answered with
    what the first one did)."""
    new = Payment(
        id=payment_id(customer.id, idempotency_key),
        customer_id=customer.id,
        kind=order.kind,
        debit_account_id=order.debit_account_id,
        credit_account_id=order.credit_account_id,
        amount=order.amount,
        currency=order.currency,
    )
    async with database.sessionmaker.begin() as session:
        payment, created = await repository.add_or_get(session, new)
    if not order.is_for(payment):
        raise UnprocessableContent(
            "This Idempotency-Key was already used for another payment; use a new key"
        )
    if payment.status is PaymentStatus.NEW and not created:
        payment = await _claim(database, payment)
    if payment.status is PaymentStatus.NEW:
        payment = await _ask_ledger(database, ledger, payment)
    if payment.status is PaymentStatus.REJECTED and payment.reason:
        raise refusals.refusal(payment.reason)
    return payment, created


async def _claim(database: Database, payment: Payment) -> Payment:
    """The payment, claimed for this request if still `new`; else as it stands now (the
    reconciler, or another copy of the request, ended it meanwhile)."""
    async with database.sessionmaker.begin() as session:
        claimed = await repository.claim_new(session, payment.id)
        current = claimed or await repository.get(session, payment.id)
    assert current is not None  # noqa: S101 (payments are never deleted)
    return current


async def record_answer(
    session: AsyncSession,
    payment_id: uuid.UUID,
    to: PaymentStatus,
    *,
    reason: str | None = None,
    unchanged_since: datetime | None = None,
) -> Payment | None:
    """Records what the ledger did with a `new` payment's transfer (moved, reserved,
    refused or released), and announces it: `payment.requested`, and the ending if it is
    one. None if the payment was `new` no more (or, given `unchanged_since`, claimed)."""
    moved = await repository.move(
        session,
        payment_id,
        from_statuses=[PaymentStatus.NEW],
        to=to,
        reason=reason,
        unchanged_since=unchanged_since,
    )
    if moved is None:
        return None
    events.requested(session, moved)
    if to is PaymentStatus.COMPLETED:
        events.completed(session, moved)
        PAYMENTS.labels("completed").inc()
    elif to is PaymentStatus.REJECTED:
        events.rejected(session, moved, moved.reason or "")
        PAYMENTS.labels("rejected").inc()
    return moved


async def _ask_ledger(database: Database, ledger: LedgerClient, payment: Payment) -> Payment:
    reserve = payment.kind is not PaymentKind.TOP_UP
    try:
        await ledger.transfer(
            payment.id,
            debit_account_id=payment.debit_account_id,
            credit_account_id=payment.credit_account_id,
            amount=payment.amount,
            currency=payment.currency,
            pending=reserve,
        )
    except LedgerRefused as refused:
        reason = refusals.reason_word(refused.reason)
        if not refusals.is_customers_doing(reason):
            raise
        async with database.sessionmaker.begin() as session:
            await record_answer(session, payment.id, PaymentStatus.REJECTED, reason=reason)
        raise refusals.refusal(reason) from refused

    to = PaymentStatus.PENDING if reserve else PaymentStatus.COMPLETED
    async with database.sessionmaker.begin() as session:
        moved = await record_answer(session, payment.id, to)
        if moved is not None:
            return moved
        # Another copy of the request recorded the answer first.
        current = await repository.get(session, payment.id)
    assert current is not None  # noqa: S101 (payments are never deleted)
    if current.status is PaymentStatus.REJECTED and current.reason == ABANDONED:
        await _undo_abandoned(ledger, current, reserved=reserve)
    return current


async def _undo_abandoned(ledger: LedgerClient, payment: Payment, *, reserved: bool) -> None:
    """The ledger took the transfer of a payment the reconciler had ended as abandoned:
    only a request paused between its claim and its call for longer than the reconciler
    waits gets here. A reservation is released (if the ledger does not answer, its
    timeout will); money that moved needs a correcting transfer."""
    if not reserved:
        logger.error(
            "payment %s was abandoned, then the ledger moved its money: correct it with a "
            "transfer back",
            payment.id,
        )
        return
    try:
        await ledger.void(payment.id)
    except (LedgerRefused, LedgerUnavailable):
        logger.exception(
            "payment %s was abandoned, then the ledger reserved its funds: not released, "
            "they are when the reservation times out",
            payment.id,
        )
        return
    logger.warning("payment %s was abandoned; its late reservation released", payment.id)

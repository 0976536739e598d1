"""The fraud check: consumes `payment.requested` and, for a transfer or payout whose funds
the ledger reserved, either posts it (`payment.completed`) or holds it for a reviewer
(`payment.held`). It runs in the worker (`python -m payments.worker`).

A redelivered event has one effect: roadmap_shared.messaging's Consumer skips a message
id it has handled, and a copy published again under another id (it cannot be: the relay
keeps the id) would find the payment no longer `pending` and do nothing."""

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from payments.config import Settings
from payments.fraud import decisions
from payments.fraud.rules import Thresholds, rule_broken
from payments.ledger_client import LedgerClient
from payments.models import Payment, PaymentKind, PaymentStatus
from payments.payments import events, repository
from roadmap_shared.messaging import Event, Handler, PoisonMessage, Subscription

CHECKED_KINDS = (PaymentKind.TRANSFER, PaymentKind.PAYOUT)


def subscription(settings: Settings) -> Subscription:
    return Subscription(
        name=settings.consumer_name,
        event_types=(events.REQUESTED,),
        exchange=settings.events_exchange,
        retry_delays_seconds=tuple(settings.retry_delays_seconds),
        prefetch=settings.prefetch,
    )


class FraudCheck:
    def __init__(self, settings: Settings, ledger: LedgerClient) -> None:
        self._ledger = ledger
        self._window = timedelta(seconds=settings.velocity_window_seconds)
        self._thresholds = Thresholds(
            velocity_limit=settings.velocity_limit, review_amount=settings.review_amount
        )

    def handlers(self) -> dict[str, Handler]:
        return {events.REQUESTED: self.on_payment_requested}

    async def on_payment_requested(self, session: AsyncSession, event: Event) -> None:
        try:
            payment_id = uuid.UUID(str(event.payload["payment_id"]))
        except (KeyError, ValueError) as unreadable:
            raise PoisonMessage("no readable payment_id in the payload") from unreadable
        # Locked: a reviewer cannot act on it while the check runs (and need not: it is
        # `pending` until the check holds it).
        payment = await repository.get(session, payment_id, lock=True)
        if payment is None:
            raise PoisonMessage(f"no payment {payment_id}")
        await self.decide(session, payment)

    async def decide(self, session: AsyncSession, payment: Payment) -> None:
        """Posts or holds `payment`, read and locked in `session`; nothing if it is not a
        checked payment still `pending`. The reconciler (payments.reconcile) calls it too,
        for a payment whose `payment.requested` never got here."""
        if payment.kind not in CHECKED_KINDS or payment.status is not PaymentStatus.PENDING:
            return  # a top-up (completed at once), or decided already
        recent = await repository.count_recent(
            session,
            payment.customer_id,
            CHECKED_KINDS,
            since=payment.created_at - self._window,
            until=payment.created_at,
        )
        rule = rule_broken(
            amount=payment.amount, recent_payments=recent, thresholds=self._thresholds
        )
        if rule is not None:
            await decisions.hold(session, payment.id, rule)
        else:
            await decisions.complete(
                session, self._ledger, payment, from_status=PaymentStatus.PENDING
            )

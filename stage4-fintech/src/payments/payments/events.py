"""The events this service publishes: the contract other services (the audit log) read.
Routing key = event type; amounts are integers in minor units; ids are UUID strings;
`occurred_at` is ISO-8601 in UTC. Change a payload only by adding a field."""

from sqlalchemy.ext.asyncio import AsyncSession

from payments.models import OutboxEvent, Payment
from roadmap_shared.database import utcnow
from roadmap_shared.messaging import add_event

REQUESTED = "payment.requested"
HELD = "payment.held"
COMPLETED = "payment.completed"
REJECTED = "payment.rejected"


def _now() -> str:
    return utcnow().isoformat()


def requested(session: AsyncSession, payment: Payment) -> None:
    add_event(
        session,
        OutboxEvent,
        REQUESTED,
        {
            "payment_id": str(payment.id),
            "kind": payment.kind.value,
            "customer_id": str(payment.customer_id),
            "debit_account_id": str(payment.debit_account_id),
            "credit_account_id": str(payment.credit_account_id),
            "amount": payment.amount,
            "currency": payment.currency,
            "occurred_at": _now(),
        },
    )


def held(session: AsyncSession, payment: Payment, rule: str) -> None:
    add_event(
        session,
        OutboxEvent,
        HELD,
        {
            "payment_id": str(payment.id),
            "customer_id": str(payment.customer_id),
            "rule": rule,
            "occurred_at": _now(),
        },
    )


def _reviewed(payment: Payment) -> dict[str, str]:
    """Who decided, when a reviewer did: a staff member's id, never their name."""
    return {} if payment.reviewed_by is None else {"reviewed_by": str(payment.reviewed_by)}


def completed(session: AsyncSession, payment: Payment) -> None:
    add_event(
        session,
        OutboxEvent,
        COMPLETED,
        {
            "payment_id": str(payment.id),
            "customer_id": str(payment.customer_id),
            "amount": payment.amount,
            "currency": payment.currency,
            "occurred_at": _now(),
            **_reviewed(payment),
        },
    )


def rejected(session: AsyncSession, payment: Payment, reason: str) -> None:
    add_event(
        session,
        OutboxEvent,
        REJECTED,
        {
            "payment_id": str(payment.id),
            "customer_id": str(payment.customer_id),
            "reason": reason,
            "occurred_at": _now(),
            **_reviewed(payment),
        },
    )

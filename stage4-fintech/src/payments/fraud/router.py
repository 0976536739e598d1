"""Staff review the payments the fraud check held: approve (the reserved transfer is
posted) or reject (its reservation released). Each decision is taken once, and records
who took it and when: the payment's row is locked while the ledger is asked, so two
reviewers acting at once queue, and the second finds it decided (the same reviewer's same
decision again answers it; the other decision, or another reviewer, is 409)."""

import uuid

from fastapi import APIRouter

from payments.dependencies import DatabaseDep, LedgerDep, SessionDep, Staff
from payments.fraud import decisions
from payments.ledger_client import LedgerClient
from payments.models import Customer, Payment, PaymentStatus
from payments.payments import refusals, repository
from payments.payments.schemas import PaymentPublic
from roadmap_shared.database import Database
from roadmap_shared.dependencies import NO_STORE
from roadmap_shared.errors import Conflict, Forbidden, NotFound, problem_responses
from roadmap_shared.pagination import Page, PageParamsDep

router = APIRouter(
    prefix="/reviews",
    tags=["reviews"],
    dependencies=[NO_STORE],
    responses=problem_responses(401, 403),
)
DECISION = problem_responses(403, 404, 409, 503)


@router.get("", summary="Payments held for review, oldest first (staff)")
async def held_payments(_: Staff, session: SessionDep, page: PageParamsDep) -> Page[PaymentPublic]:
    payments, total = await repository.held(session, page)
    items = [PaymentPublic.model_validate(payment) for payment in payments]
    return Page.of(items, total=total, params=page)


async def _decide(
    database: Database,
    ledger: LedgerClient,
    payment_id: uuid.UUID,
    reviewer: Customer,
    *,
    approve: bool,
) -> Payment:
    wanted = PaymentStatus.COMPLETED if approve else PaymentStatus.REJECTED
    async with database.sessionmaker.begin() as session:
        payment = await repository.get(session, payment_id, lock=True)
        if payment is None:
            raise NotFound("No payment has this id")
        if payment.customer_id == reviewer.id:
            # Four eyes: whoever's money it is must not be the one who lets it through.
            raise Forbidden("Staff cannot review their own payments")
        if payment.status is PaymentStatus.HELD:
            if approve:
                decided = await decisions.complete(
                    session, ledger, payment, from_status=PaymentStatus.HELD, reviewer=reviewer.id
                )
            else:
                decided = await decisions.reject(
                    session, ledger, payment, from_status=PaymentStatus.HELD, reviewer=reviewer.id
                )
            payment = decided or payment
        elif payment.reviewed_by not in {None, reviewer.id}:
            # The decision is its reviewer's: answering another as if it were theirs would
            # let them believe they took it.
            raise Conflict("Another reviewer decided this payment")
        elif payment.status is not wanted:
            raise Conflict(f"The payment is {payment.status.value}, not held for review")
    if approve and payment.status is PaymentStatus.REJECTED and payment.reason:
        raise refusals.refusal(payment.reason)  # its reservation expired meanwhile
    if not approve and payment.status is PaymentStatus.COMPLETED:
        # Approved before, by a decision whose record never committed: the money moved.
        raise Conflict("The payment was approved and completed; it cannot be rejected")
    return payment


@router.post(
    "/{payment_id}/approve", summary="Let a held payment complete (staff)", responses=DECISION
)
async def approve(
    payment_id: uuid.UUID, reviewer: Staff, database: DatabaseDep, ledger: LedgerDep
) -> PaymentPublic:
    decided = await _decide(database, ledger, payment_id, reviewer, approve=True)
    return PaymentPublic.model_validate(decided)


@router.post(
    "/{payment_id}/reject",
    summary="Refuse a held payment; its funds are released (staff)",
    responses=DECISION,
)
async def reject(
    payment_id: uuid.UUID, reviewer: Staff, database: DatabaseDep, ledger: LedgerDep
) -> PaymentPublic:
    decided = await _decide(database, ledger, payment_id, reviewer, approve=False)
    return PaymentPublic.model_validate(decided)

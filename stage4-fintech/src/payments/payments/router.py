import uuid

from fastapi import APIRouter, Response, status

from payments.dependencies import (
    CallerWithoutSession,
    CurrentCustomer,
    DatabaseDep,
    IdempotencyKeyHeader,
    LedgerDep,
    SessionDep,
    SettingsDep,
)
from payments.models import Customer, Payment, PaymentKind, Wallet
from payments.payments import repository, service
from payments.payments.schemas import PaymentPublic, PayoutRequest, TopUpRequest, TransferRequest
from payments.wallets import service as wallets
from roadmap_shared.database import Database
from roadmap_shared.dependencies import NO_STORE
from roadmap_shared.errors import Conflict, NotFound, UnprocessableContent, problem_responses
from roadmap_shared.pagination import Page, PageParamsDep

router = APIRouter(
    prefix="/payments",
    tags=["payments"],
    dependencies=[NO_STORE],
    responses=problem_responses(401),
)

MONEY_MOVING = {
    200: {"description": "What the first request with this Idempotency-Key did"},
    **problem_responses(409, 422, 503),
}


async def _own_wallet(database: Database, customer: Customer) -> Wallet:
    async with database.read_sessionmaker() as session:
        wallet = await wallets.own(session, customer.id)
    if wallet is None:
        raise Conflict("Open a wallet first: POST /wallet")
    return wallet


def _check_amount(amount: int, limit: int) -> None:
    if amount > limit:
        raise UnprocessableContent(f"A payment moves at most {limit} minor units")


async def _answer(
    *,
    database: Database,
    ledger: LedgerDep,
    customer: Customer,
    order: service.Order,
    key: str,
    response: Response,
) -> PaymentPublic:
    payment, created = await service.request_payment(
        database, ledger, customer, order, idempotency_key=key
    )
    response.headers["Location"] = f"/payments/{payment.id}"
    if not created:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return PaymentPublic.model_validate(payment)


@router.post(
    "/top-ups",
    status_code=status.HTTP_201_CREATED,
    summary="Add money to your wallet (from the settlement account); completes at once",
    responses=MONEY_MOVING,
)
async def top_up(
    *,
    body: TopUpRequest,
    customer: CallerWithoutSession,
    database: DatabaseDep,
    ledger: LedgerDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader,
    response: Response,
) -> PaymentPublic:
    _check_amount(body.amount, settings.max_amount)
    wallet = await _own_wallet(database, customer)
    order = service.Order(
        kind=PaymentKind.TOP_UP,
        debit_account_id=settings.settlement_account_id,
        credit_account_id=wallet.id,
        amount=body.amount,
        currency=wallet.currency,
    )
    return await _answer(
        database=database,
        ledger=ledger,
        customer=customer,
        order=order,
        key=idempotency_key,
        response=response,
    )


@router.post(
    "/transfers",
    status_code=status.HTTP_201_CREATED,
    summary="Send money to another customer's wallet: reserved now, completed once the "
    "fraud check (or a reviewer) lets it",
    responses=MONEY_MOVING,
)
async def transfer(
    *,
    body: TransferRequest,
    customer: CallerWithoutSession,
    database: DatabaseDep,
    ledger: LedgerDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader,
    response: Response,
) -> PaymentPublic:
    _check_amount(body.amount, settings.max_amount)
    wallet = await _own_wallet(database, customer)
    async with database.read_sessionmaker() as session:
        recipient = await wallets.get(session, body.to_wallet_id)
    if recipient is None:
        raise UnprocessableContent("No wallet has this id", extra={"reason": "unknown_wallet"})
    if recipient.id == wallet.id:
        raise UnprocessableContent("A transfer goes to another wallet than yours")
    order = service.Order(
        kind=PaymentKind.TRANSFER,
        debit_account_id=wallet.id,
        credit_account_id=recipient.id,
        amount=body.amount,
        currency=wallet.currency,
    )
    return await _answer(
        database=database,
        ledger=ledger,
        customer=customer,
        order=order,
        key=idempotency_key,
        response=response,
    )


@router.post(
    "/payouts",
    status_code=status.HTTP_201_CREATED,
    summary="Withdraw money to your bank: reserved now, paid out once the fraud check (or "
    "a reviewer) lets it",
    responses=MONEY_MOVING,
)
async def payout(
    *,
    body: PayoutRequest,
    customer: CallerWithoutSession,
    database: DatabaseDep,
    ledger: LedgerDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader,
    response: Response,
) -> PaymentPublic:
    _check_amount(body.amount, settings.max_amount)
    wallet = await _own_wallet(database, customer)
    order = service.Order(
        kind=PaymentKind.PAYOUT,
        debit_account_id=wallet.id,
        credit_account_id=settings.payouts_account_id,
        amount=body.amount,
        currency=wallet.currency,
    )
    return await _answer(
        database=database,
        ledger=ledger,
        customer=customer,
        order=order,
        key=idempotency_key,
        response=response,
    )


@router.get("", summary="Your payments, newest first")
async def list_payments(
    customer: CurrentCustomer, session: SessionDep, page: PageParamsDep
) -> Page[PaymentPublic]:
    payments, total = await repository.page_of_customer(session, customer.id, page)
    items = [PaymentPublic.model_validate(payment) for payment in payments]
    return Page.of(items, total=total, params=page)


@router.get("/{payment_id}", summary="One of your payments", responses=problem_responses(404))
async def read_payment(
    payment_id: uuid.UUID, customer: CurrentCustomer, session: SessionDep
) -> PaymentPublic:
    payment: Payment | None = await repository.get(session, payment_id)
    # Someone else's payment is as unknown as one that does not exist.
    if payment is None or payment.customer_id != customer.id:
        raise NotFound("No payment of yours has this id")
    return PaymentPublic.model_validate(payment)

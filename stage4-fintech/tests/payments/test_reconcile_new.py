"""The reconciler and the payments left `new`: the request recorded, the ledger's answer
never recorded (the ledger did not answer, or the process died), and no retry came. A
pass ends each from what the ledger holds under its id, once, however many passes run,
and never while a retry of its request carries it on."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from ledger.maintenance import expire_due_transfers
from payments.config import Settings
from payments.ledger_client import LedgerClient
from payments.models import Customer, Payment, PaymentKind, PaymentStatus
from payments.payments.service import Order, payment_id, request_payment
from roadmap_shared.database import Database
from roadmap_shared.errors import Conflict
from tests.payments.factories import balance, events_of, key, open_wallet
from tests.payments.test_fraud import status_of
from tests.payments.test_reconcile import AGE, a_pass, age, types

TOP_UP = 700


async def left_new(
    session: AsyncSession,
    customer: Customer,
    wallet: str,
    settings: Settings,
    idempotency_key: str,
    *,
    kind: PaymentKind = PaymentKind.TOP_UP,
) -> Payment:
    """A top-up (or a payout) recorded as the request records it, and nothing after: the
    process died before the ledger was asked, or before its answer was recorded."""
    top_up = kind is PaymentKind.TOP_UP
    payment = Payment(
        id=payment_id(customer.id, idempotency_key),
        customer_id=customer.id,
        kind=kind,
        status=PaymentStatus.NEW,
        debit_account_id=settings.settlement_account_id if top_up else uuid.UUID(wallet),
        credit_account_id=uuid.UUID(wallet) if top_up else settings.payouts_account_id,
        amount=TOP_UP,
        currency=settings.currency,
    )
    session.add(payment)
    await session.commit()
    return payment


async def expire_in_the_ledger(ledger_database_url: str, transfer_id: uuid.UUID) -> None:
    """What the ledger's maintenance loop does once the reservation's timeout has passed."""
    engine = create_async_engine(ledger_database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE transfers SET expires_at = now() WHERE id = :id"),
                {"id": transfer_id},
            )
        assert await expire_due_transfers(engine) >= 1
    finally:
        await engine.dispose()


async def retry(client: AsyncClient, headers: dict[str, str], idempotency_key: str) -> int:
    """The customer's request sent again, with its key; its status code."""
    answer = await client.post(
        "/payments/top-ups", json={"amount": TOP_UP}, headers=headers | key(idempotency_key)
    )
    return answer.status_code


class HeldBeforeSending(LedgerClient):
    """The ledger as a retry of the request calls it: the call waits, once the payment is
    claimed, until the test lets it go."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.calling = asyncio.Event()
        self.go = asyncio.Event()

    async def transfer(self, transfer_id: uuid.UUID, **transfer: Any) -> None:
        self.calling.set()
        await asyncio.wait_for(self.go.wait(), timeout=10)
        await super().transfer(transfer_id, **transfer)


class RetriedWhileAsked(LedgerClient):
    """The ledger as the reconciler sees it: after it answers, and before the pass records
    the answer, a retry of the request claims the payment (`start_retry`)."""

    def __init__(self, settings: Settings, start_retry: Callable[[], Awaitable[None]]) -> None:
        super().__init__(settings)
        self._start_retry = start_retry

    async def transfer_state(self, transfer_id: uuid.UUID) -> str | None:
        state = await super().transfer_state(transfer_id)
        await self._start_retry()
        return state


async def test_a_payment_the_ledger_never_took_is_abandoned_and_never_sent(
    *,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    alice: Customer,
    alice_auth: dict[str, str],
    database: Database,
    ledger: LedgerClient,
    settings: Settings,
    db_engine: AsyncEngine,
) -> None:
    wallet = await open_wallet(committing_client, alice_auth)
    idempotency_key = str(uuid.uuid4())
    payment = await left_new(committed_session, alice, wallet, settings, idempotency_key)
    await age(db_engine, str(payment.id))

    assert await a_pass(database, ledger, settings) == 1

    events = await events_of(db_engine, str(payment.id))
    assert [(event_type, body["reason"]) for event_type, body in events] == [
        ("payment.rejected", "abandoned")
    ]
    # A retry after the end is answered with it, and moves nothing.
    answer = await committing_client.post(
        "/payments/top-ups", json={"amount": TOP_UP}, headers=alice_auth | key(idempotency_key)
    )
    assert answer.status_code == 409
    assert answer.json()["reason"] == "abandoned"
    assert await ledger.transfer_state(payment.id) is None
    assert (await balance(committing_client, alice_auth))["balance"] == 0
    assert await a_pass(database, ledger, settings) == 0


@pytest.mark.parametrize(
    ("kind", "expire", "status", "expected"),
    [
        (PaymentKind.TOP_UP, False, "completed", ["payment.requested", "payment.completed"]),
        (PaymentKind.PAYOUT, False, "pending", ["payment.requested"]),
        (PaymentKind.PAYOUT, True, "rejected", ["payment.requested", "payment.rejected"]),
    ],
)
async def test_a_payment_whose_answer_was_lost_gets_what_the_ledger_did(
    *,
    kind: PaymentKind,
    expire: bool,
    status: str,
    expected: list[str],
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    alice: Customer,
    alice_auth: dict[str, str],
    database: Database,
    ledger: LedgerClient,
    settings: Settings,
    db_engine: AsyncEngine,
    ledger_database_url: str,
) -> None:
    wallet = await open_wallet(committing_client, alice_auth)
    reserve = kind is PaymentKind.PAYOUT
    if reserve:  # the wallet holds what the payout reserves
        await ledger.transfer(
            uuid.uuid4(),
            debit_account_id=settings.settlement_account_id,
            credit_account_id=uuid.UUID(wallet),
            amount=TOP_UP,
            currency=settings.currency,
            pending=False,
        )
    payment = await left_new(
        committed_session, alice, wallet, settings, str(uuid.uuid4()), kind=kind
    )
    # The ledger did it; the process died before recording its answer.
    await ledger.transfer(
        payment.id,
        debit_account_id=payment.debit_account_id,
        credit_account_id=payment.credit_account_id,
        amount=TOP_UP,
        currency=settings.currency,
        pending=reserve,
    )
    if expire:
        await expire_in_the_ledger(ledger_database_url, payment.id)
    await age(db_engine, str(payment.id))

    await asyncio.gather(*(a_pass(database, ledger, settings) for _ in range(4)))

    assert await status_of(committing_client, alice_auth, str(payment.id)) == status
    events = await events_of(db_engine, str(payment.id))
    assert types(events) == expected
    if expire:
        assert events[-1][1]["reason"] == "expired"
    # Moved once (a top-up), reserved once (a payout), or released (expired).
    available = (await balance(committing_client, alice_auth))["available"]
    assert available == (0 if reserve and not expire else TOP_UP)


async def test_two_passes_at_once_end_a_new_payment_once_with_one_event(
    *,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    alice: Customer,
    alice_auth: dict[str, str],
    database: Database,
    ledger: LedgerClient,
    settings: Settings,
    db_engine: AsyncEngine,
) -> None:
    wallet = await open_wallet(committing_client, alice_auth)
    payment = await left_new(committed_session, alice, wallet, settings, str(uuid.uuid4()))
    await age(db_engine, str(payment.id))

    ended = await asyncio.gather(*(a_pass(database, ledger, settings) for _ in range(2)))

    assert sorted(ended) == [1, 1]  # each found an end: its own, or the other's
    events = await events_of(db_engine, str(payment.id))
    assert [(event_type, body["reason"]) for event_type, body in events] == [
        ("payment.rejected", "abandoned")
    ]


async def test_a_retry_racing_a_pass_carries_the_payment_on_and_the_pass_leaves_it(
    *,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    alice: Customer,
    alice_auth: dict[str, str],
    database: Database,
    ledger: LedgerClient,
    settings: Settings,
    db_engine: AsyncEngine,
) -> None:
    wallet = await open_wallet(committing_client, alice_auth)
    idempotency_key = str(uuid.uuid4())
    payment = await left_new(committed_session, alice, wallet, settings, idempotency_key)
    await age(db_engine, str(payment.id))
    order = Order(
        kind=PaymentKind.TOP_UP,
        debit_account_id=payment.debit_account_id,
        credit_account_id=payment.credit_account_id,
        amount=TOP_UP,
        currency=settings.currency,
    )
    retrying_ledger = HeldBeforeSending(settings)
    retries: list[asyncio.Task[tuple[Payment, bool]]] = []

    async def start_retry() -> None:
        retries.append(
            asyncio.create_task(
                request_payment(
                    database, retrying_ledger, alice, order, idempotency_key=idempotency_key
                )
            )
        )
        await asyncio.wait_for(retrying_ledger.calling.wait(), timeout=10)

    racing = RetriedWhileAsked(settings, start_retry)
    try:
        # The pass reads "nothing in the ledger"; the retry has claimed the payment when
        # the pass would record that, and asks the ledger after.
        await a_pass(database, racing, settings)
        retrying_ledger.go.set()
        [retried] = await asyncio.gather(*retries)
    finally:
        await racing.aclose()
        await retrying_ledger.aclose()

    assert retried[0].status is PaymentStatus.COMPLETED
    assert await status_of(committing_client, alice_auth, str(payment.id)) == "completed"
    assert types(await events_of(db_engine, str(payment.id))) == [
        "payment.requested",
        "payment.completed",
    ]
    assert (await balance(committing_client, alice_auth))["balance"] == TOP_UP


async def test_a_request_paused_past_its_claim_releases_what_it_reserved_late(
    *,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    alice: Customer,
    alice_auth: dict[str, str],
    database: Database,
    ledger: LedgerClient,
    settings: Settings,
    db_engine: AsyncEngine,
) -> None:
    wallet = await open_wallet(committing_client, alice_auth)
    await ledger.transfer(
        uuid.uuid4(),
        debit_account_id=settings.settlement_account_id,
        credit_account_id=uuid.UUID(wallet),
        amount=TOP_UP,
        currency=settings.currency,
        pending=False,
    )
    idempotency_key = str(uuid.uuid4())
    payment = await left_new(
        committed_session, alice, wallet, settings, idempotency_key, kind=PaymentKind.PAYOUT
    )
    order = Order(
        kind=PaymentKind.PAYOUT,
        debit_account_id=payment.debit_account_id,
        credit_account_id=payment.credit_account_id,
        amount=TOP_UP,
        currency=settings.currency,
    )
    paused = HeldBeforeSending(settings)
    try:
        retried = asyncio.create_task(
            request_payment(database, paused, alice, order, idempotency_key=idempotency_key)
        )
        await asyncio.wait_for(paused.calling.wait(), timeout=10)
        # Paused after its claim for longer than the reconciler waits: the pass ends it.
        await age(db_engine, str(payment.id))
        assert await a_pass(database, ledger, settings) == 1
        paused.go.set()
        with pytest.raises(Conflict):
            await retried
    finally:
        await paused.aclose()

    assert await ledger.transfer_state(payment.id) == "voided"
    assert (await balance(committing_client, alice_auth))["available"] == TOP_UP
    events = await events_of(db_engine, str(payment.id))
    assert [(event_type, body["reason"]) for event_type, body in events] == [
        ("payment.rejected", "abandoned")
    ]


async def test_a_recent_new_payment_is_left_to_its_request(
    *,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    alice: Customer,
    alice_auth: dict[str, str],
    database: Database,
    ledger: LedgerClient,
    settings: Settings,
    db_engine: AsyncEngine,
) -> None:
    wallet = await open_wallet(committing_client, alice_auth)
    idempotency_key = str(uuid.uuid4())
    payment = await left_new(committed_session, alice, wallet, settings, idempotency_key)
    await age(db_engine, str(payment.id), by=AGE - AGE / 15)

    assert await a_pass(database, ledger, settings) == 0

    assert await status_of(committing_client, alice_auth, str(payment.id)) == "new"
    # Its retry carries on, as it would have without any reconciler.
    assert await retry(committing_client, alice_auth, idempotency_key) == 200
    assert (await balance(committing_client, alice_auth))["balance"] == TOP_UP

"""The reconciler against the real ledger and PostgreSQL: a payment left `pending` is
ended from what the ledger says of its transfer, once, however many passes run; a
payment held for review is left to staff; a recent one, to the fraud check."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from httpx import AsyncClient
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from ledger.maintenance import expire_due_transfers
from payments.config import Settings
from payments.fraud.consumer import FraudCheck
from payments.ledger_client import LedgerClient
from payments.models import Customer, Payment, PaymentKind, PaymentStatus
from payments.reconcile import reconcile
from roadmap_shared.database import Database, utcnow
from tests.payments.factories import balance, events_of, open_wallet, top_up
from tests.payments.test_fraud import send, status_of

# Passes in these tests reconcile what has not changed for this long; the payments they
# are meant to reconcile are aged past it, by hand.
AGE = timedelta(minutes=15)
AN_HOUR = timedelta(hours=1)


@pytest.fixture
def fraud_thresholds() -> dict[str, int]:
    """The fraud check's thresholds of test_fraud: 10.00 and more is held."""
    return {"velocity_limit": 5, "review_amount": 1_000}


@pytest_asyncio.fixture
async def wallets(
    committing_client: AsyncClient, alice_auth: dict[str, str], bob_auth: dict[str, str]
) -> str:
    """Alice holds 50.00; Bob's wallet id is returned."""
    await open_wallet(committing_client, alice_auth)
    bobs = await open_wallet(committing_client, bob_auth)
    await top_up(committing_client, alice_auth, 5_000)
    return bobs


@pytest_asyncio.fixture
async def ledger_engine(ledger_database_url: str) -> AsyncIterator[AsyncEngine]:
    """The ledger's own database, for what only its maintenance loop does (expiring)."""
    engine = create_async_engine(ledger_database_url)
    yield engine
    await engine.dispose()


async def age(db_engine: AsyncEngine, payment_id: str, by: timedelta = AN_HOUR) -> None:
    """As if the payment had not changed for `by`: stuck, for a pass older than AGE."""
    async with db_engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE payments SET updated_at = updated_at - CAST(:by AS interval) WHERE id = :id"
            ),
            {"by": by, "id": uuid.UUID(payment_id)},
        )


async def a_pass(database: Database, ledger: LedgerClient, settings: Settings) -> int:
    return await reconcile(
        database, ledger, FraudCheck(settings, ledger), older_than=AGE, now=utcnow()
    )


def types(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [event_type for event_type, _ in events]


async def stuck_transfer(
    client: AsyncClient,
    headers: dict[str, str],
    to_wallet: str,
    db_engine: AsyncEngine,
    amount: int,
) -> str:
    """A transfer reserved in the ledger and left `pending`: no fraud check runs here, as
    when its `payment.requested` was dead-lettered."""
    payment = await send(client, headers, to_wallet, amount)
    assert payment["status"] == "pending"
    await age(db_engine, payment["id"])
    payment_id: str = payment["id"]
    return payment_id


async def test_a_transfer_the_ledger_posted_is_completed(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    bob_auth: dict[str, str],
    wallets: str,
    database: Database,
    ledger: LedgerClient,
    settings: Settings,
    db_engine: AsyncEngine,
) -> None:
    payment_id = await stuck_transfer(committing_client, alice_auth, wallets, db_engine, 300)
    # The fraud check's post took effect; its answer was lost (DEADLINE_EXCEEDED).
    await ledger.post(uuid.UUID(payment_id))

    assert await a_pass(database, ledger, settings) == 1

    assert await status_of(committing_client, alice_auth, payment_id) == "completed"
    events = await events_of(db_engine, payment_id)
    assert types(events) == ["payment.requested", "payment.completed"]
    assert (await balance(committing_client, bob_auth))["balance"] == 300
    assert await a_pass(database, ledger, settings) == 0  # nothing left to do


async def test_several_passes_at_once_end_a_payment_once_with_one_event(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    wallets: str,
    database: Database,
    ledger: LedgerClient,
    settings: Settings,
    db_engine: AsyncEngine,
) -> None:
    payment_id = await stuck_transfer(committing_client, alice_auth, wallets, db_engine, 300)
    await ledger.post(uuid.UUID(payment_id))

    await asyncio.gather(*(a_pass(database, ledger, settings) for _ in range(8)))

    events = await events_of(db_engine, payment_id)
    assert types(events) == ["payment.requested", "payment.completed"]


async def test_a_transfer_still_pending_in_the_ledger_gets_its_fraud_check(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    bob_auth: dict[str, str],
    wallets: str,
    database: Database,
    ledger: LedgerClient,
    settings: Settings,
    db_engine: AsyncEngine,
) -> None:
    passes = await stuck_transfer(committing_client, alice_auth, wallets, db_engine, 300)
    too_big = await stuck_transfer(committing_client, alice_auth, wallets, db_engine, 1_500)

    await asyncio.gather(*(a_pass(database, ledger, settings) for _ in range(4)))

    assert await status_of(committing_client, alice_auth, passes) == "completed"
    assert await status_of(committing_client, alice_auth, too_big) == "held"
    assert types(await events_of(db_engine, passes))[1:] == ["payment.completed"]
    assert types(await events_of(db_engine, too_big))[1:] == ["payment.held"]
    assert (await balance(committing_client, bob_auth))["balance"] == 300


@pytest.mark.parametrize(
    ("finish", "reason"), [("void", "rejected_by_review"), ("expire", "expired")]
)
async def test_a_transfer_released_in_the_ledger_is_rejected(
    *,
    finish: str,
    reason: str,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    wallets: str,
    database: Database,
    ledger: LedgerClient,
    settings: Settings,
    db_engine: AsyncEngine,
    ledger_engine: AsyncEngine,
) -> None:
    payment_id = await stuck_transfer(committing_client, alice_auth, wallets, db_engine, 300)
    if finish == "void":
        await ledger.void(uuid.UUID(payment_id))
    else:
        async with ledger_engine.begin() as connection:
            await connection.execute(
                text("UPDATE transfers SET expires_at = now() WHERE id = :id"),
                {"id": uuid.UUID(payment_id)},
            )
        assert await expire_due_transfers(ledger_engine) >= 1

    assert await a_pass(database, ledger, settings) == 1

    events = await events_of(db_engine, payment_id)
    assert [(event_type, payload.get("reason")) for event_type, payload in events][1:] == [
        ("payment.rejected", reason)
    ]
    assert (await balance(committing_client, alice_auth))["available"] == 5_000


async def test_a_pending_payment_the_ledger_does_not_hold_is_rejected_and_not_sent_again(
    *,
    alice: Customer,
    committed_session: AsyncSession,
    database: Database,
    ledger: LedgerClient,
    settings: Settings,
    db_engine: AsyncEngine,
) -> None:
    # Reserved, the ledger answered; then it lost the transfer (restored from a backup).
    lost = Payment(
        id=uuid.uuid4(),
        customer_id=alice.id,
        kind=PaymentKind.PAYOUT,
        status=PaymentStatus.PENDING,
        debit_account_id=uuid.uuid4(),
        credit_account_id=settings.payouts_account_id,
        amount=300,
        currency="EUR",
    )
    committed_session.add(lost)
    await committed_session.commit()
    await age(db_engine, str(lost.id))

    assert await a_pass(database, ledger, settings) == 1

    events = await events_of(db_engine, str(lost.id))
    assert [(event_type, payload["reason"]) for event_type, payload in events] == [
        ("payment.rejected", "not_in_ledger")
    ]
    assert await ledger.transfer_state(lost.id) is None  # nothing reserved anew


async def test_a_recent_payment_is_left_to_the_fraud_check(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    wallets: str,
    database: Database,
    ledger: LedgerClient,
    settings: Settings,
    db_engine: AsyncEngine,
) -> None:
    payment = await send(committing_client, alice_auth, wallets, 300)
    await age(db_engine, payment["id"], by=AGE - timedelta(minutes=1))
    await ledger.post(uuid.UUID(payment["id"]))

    assert await a_pass(database, ledger, settings) == 0

    assert await status_of(committing_client, alice_auth, payment["id"]) == "pending"


async def test_a_payment_held_for_review_is_counted_and_left_to_staff(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    wallets: str,
    database: Database,
    ledger: LedgerClient,
    settings: Settings,
    db_engine: AsyncEngine,
) -> None:
    held = await stuck_transfer(committing_client, alice_auth, wallets, db_engine, 1_500)
    await a_pass(database, ledger, settings)
    assert await status_of(committing_client, alice_auth, held) == "held"
    await age(db_engine, held)
    # Whatever the ledger says of it (voided here), a reviewer decides, and is told.
    await ledger.void(uuid.UUID(held))

    assert await a_pass(database, ledger, settings) == 0

    assert await status_of(committing_client, alice_auth, held) == "held"
    assert REGISTRY.get_sample_value("payments_reviews_overdue") == 1
    assert types(await events_of(db_engine, held))[1:] == ["payment.held"]


async def test_a_ledger_that_does_not_answer_leaves_the_payment_for_a_later_pass(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    wallets: str,
    database: Database,
    ledger: LedgerClient,
    settings: Settings,
    db_engine: AsyncEngine,
) -> None:
    payment_id = await stuck_transfer(committing_client, alice_auth, wallets, db_engine, 300)
    unreachable = LedgerClient(settings.model_copy(update={"ledger_address": "127.0.0.1:9"}))
    try:
        assert await a_pass(database, unreachable, settings) == 0
    finally:
        await unreachable.aclose()

    assert await status_of(committing_client, alice_auth, payment_id) == "pending"
    # Sent to the back of the line: not stuck any more until AGE has passed again.
    assert await a_pass(database, ledger, settings) == 0
    await age(db_engine, payment_id)
    assert await a_pass(database, ledger, settings) == 1

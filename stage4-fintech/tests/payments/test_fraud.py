"""The fraud check, run by the worker's consumer against the real RabbitMQ and ledger:
a transfer or payout is posted, or held for a reviewer, who approves or rejects it."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aio_pika.abc import AbstractQueue, AbstractRobustConnection
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from payments.config import Settings
from payments.ledger_client import LedgerClient
from payments.models import Customer, OutboxEvent, Payment, Role
from payments.payments.events import COMPLETED, REJECTED
from payments.worker import fraud_checking
from roadmap_shared.database import Database
from roadmap_shared.messaging import Consumer, publish_pending
from roadmap_shared.messaging.relay import open_publisher
from roadmap_shared.testing.messaging import eventually
from tests.payments.factories import (
    auth,
    balance,
    events_of,
    key,
    make_customer,
    open_wallet,
    top_up,
)


@pytest.fixture
def fraud_thresholds() -> dict[str, int]:
    """Small thresholds, so a test reaches them: the third payment within the hour, or
    10.00 and more, is held."""
    return {"velocity_limit": 2, "review_amount": 1_000}


@pytest_asyncio.fixture
async def fraud_check(
    settings: Settings,
    database: Database,
    ledger: LedgerClient,
    amqp: AbstractRobustConnection,
    audit_queue: AbstractQueue,
) -> AsyncIterator[Consumer]:
    async with fraud_checking(settings, database, ledger) as consumer:
        yield consumer


async def relay(database: Database, amqp: AbstractRobustConnection, settings: Settings) -> int:
    """One pass of the worker's relay: the outbox's events onto the exchange."""
    exchange = await open_publisher(amqp, settings.events_exchange)
    async with database.sessionmaker.begin() as session:
        return await publish_pending(session, exchange, OutboxEvent)


async def send(
    client: AsyncClient, headers: dict[str, str], to_wallet: str, amount: int
) -> dict[str, Any]:
    answer = await client.post(
        "/payments/transfers",
        json={"to_wallet_id": to_wallet, "amount": amount},
        headers=headers | key(),
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def status_of(client: AsyncClient, headers: dict[str, str], payment_id: str) -> str:
    answer = await client.get(f"/payments/{payment_id}", headers=headers)
    status: str = answer.json()["status"]
    return status


async def settled(
    client: AsyncClient, headers: dict[str, str], payment_id: str, status: str
) -> None:
    async def reached() -> bool:
        return await status_of(client, headers, payment_id) == status

    await eventually(reached, what=f"payment {payment_id} {status}")


@pytest_asyncio.fixture
async def wallets(
    committing_client: AsyncClient, alice_auth: dict[str, str], bob_auth: dict[str, str]
) -> str:
    """Alice holds 50.00; Bob's wallet id is returned."""
    await open_wallet(committing_client, alice_auth)
    bobs = await open_wallet(committing_client, bob_auth)
    await top_up(committing_client, alice_auth, 5_000)
    return bobs


async def test_a_transfer_that_breaks_no_rule_completes(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    bob_auth: dict[str, str],
    wallets: str,
    fraud_check: Consumer,
    database: Database,
    amqp: AbstractRobustConnection,
    settings: Settings,
    db_engine: AsyncEngine,
) -> None:
    payment = await send(committing_client, alice_auth, wallets, 300)
    await relay(database, amqp, settings)

    await settled(committing_client, alice_auth, payment["id"], "completed")
    assert (await balance(committing_client, bob_auth))["balance"] == 300
    alices = await balance(committing_client, alice_auth)
    assert (alices["balance"], alices["reserved"]) == (4_700, 0)
    names = [name for name, _ in await events_of(db_engine, payment["id"])]
    assert names == ["payment.requested", "payment.completed"]


async def test_a_payout_that_breaks_no_rule_completes(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    wallets: str,
    fraud_check: Consumer,
    database: Database,
    amqp: AbstractRobustConnection,
    settings: Settings,
) -> None:
    answer = await committing_client.post(
        "/payments/payouts", json={"amount": 200}, headers=alice_auth | key()
    )
    await relay(database, amqp, settings)
    await settled(committing_client, alice_auth, answer.json()["id"], "completed")
    assert (await balance(committing_client, alice_auth))["balance"] == 4_800


async def test_a_large_amount_is_held_with_its_funds_reserved(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    bob_auth: dict[str, str],
    wallets: str,
    fraud_check: Consumer,
    database: Database,
    amqp: AbstractRobustConnection,
    settings: Settings,
    db_engine: AsyncEngine,
) -> None:
    payment = await send(committing_client, alice_auth, wallets, 1_000)
    await relay(database, amqp, settings)

    await settled(committing_client, alice_auth, payment["id"], "held")
    alices = await balance(committing_client, alice_auth)
    assert (alices["balance"], alices["reserved"]) == (5_000, 1_000)
    assert (await balance(committing_client, bob_auth))["balance"] == 0
    events = await events_of(db_engine, payment["id"])
    assert [name for name, _ in events] == ["payment.requested", "payment.held"]
    assert events[1][1]["rule"] == "amount"


async def test_the_third_payment_within_the_window_is_held(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    wallets: str,
    fraud_check: Consumer,
    database: Database,
    amqp: AbstractRobustConnection,
    settings: Settings,
    db_engine: AsyncEngine,
) -> None:
    payments = [await send(committing_client, alice_auth, wallets, 10) for _ in range(3)]
    await relay(database, amqp, settings)

    await settled(committing_client, alice_auth, payments[2]["id"], "held")
    for payment in payments[:2]:
        await settled(committing_client, alice_auth, payment["id"], "completed")
    [_, held] = await events_of(db_engine, payments[2]["id"])
    assert held[1]["rule"] == "velocity"


@pytest_asyncio.fixture
async def held_payment(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    wallets: str,
    fraud_check: Consumer,
    database: Database,
    amqp: AbstractRobustConnection,
    settings: Settings,
) -> str:
    payment = await send(committing_client, alice_auth, wallets, 2_000)
    await relay(database, amqp, settings)
    await settled(committing_client, alice_auth, payment["id"], "held")
    payment_id: str = payment["id"]
    return payment_id


async def test_a_reviewer_approves_a_held_payment_once(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    bob_auth: dict[str, str],
    reviewer_auth: dict[str, str],
    held_payment: str,
    db_engine: AsyncEngine,
) -> None:
    waiting = (await committing_client.get("/reviews", headers=reviewer_auth)).json()
    assert [item["id"] for item in waiting["items"]] == [held_payment]

    approvals = await asyncio.gather(
        *(
            committing_client.post(f"/reviews/{held_payment}/approve", headers=reviewer_auth)
            for _ in range(5)
        )
    )

    assert {answer.status_code for answer in approvals} == {200}
    assert {answer.json()["status"] for answer in approvals} == {"completed"}
    assert (await balance(committing_client, bob_auth))["balance"] == 2_000
    assert (await balance(committing_client, alice_auth))["balance"] == 3_000
    names = [name for name, _ in await events_of(db_engine, held_payment)]
    assert names == ["payment.requested", "payment.held", "payment.completed"]
    rejecting = await committing_client.post(
        f"/reviews/{held_payment}/reject", headers=reviewer_auth
    )
    assert rejecting.status_code == 409


async def test_a_reviewer_rejects_a_held_payment_and_its_funds_are_released(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    bob_auth: dict[str, str],
    reviewer_auth: dict[str, str],
    held_payment: str,
    db_engine: AsyncEngine,
) -> None:
    first = await committing_client.post(f"/reviews/{held_payment}/reject", headers=reviewer_auth)
    again = await committing_client.post(f"/reviews/{held_payment}/reject", headers=reviewer_auth)

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["status"] == "rejected"
    alices = await balance(committing_client, alice_auth)
    assert (alices["balance"], alices["reserved"]) == (5_000, 0)
    assert (await balance(committing_client, bob_auth))["balance"] == 0
    events = await events_of(db_engine, held_payment)
    assert [name for name, _ in events][-1] == "payment.rejected"
    assert events[-1][1]["reason"] == "rejected_by_review"
    approving = await committing_client.post(
        f"/reviews/{held_payment}/approve", headers=reviewer_auth
    )
    assert approving.status_code == 409


async def reviewed(engine: AsyncEngine, payment_id: str) -> tuple[uuid.UUID | None, bool]:
    """Who reviewed the payment, and whether when was recorded."""
    async with AsyncSession(engine) as session:
        payment = await session.get(Payment, uuid.UUID(payment_id))
        assert payment is not None
        return payment.reviewed_by, payment.reviewed_at is not None


@pytest.mark.parametrize(("decision", "event"), [("approve", COMPLETED), ("reject", REJECTED)])
async def test_a_decision_records_its_reviewer_and_when(
    *,
    committing_client: AsyncClient,
    reviewer: Customer,
    reviewer_auth: dict[str, str],
    held_payment: str,
    db_engine: AsyncEngine,
    decision: str,
    event: str,
) -> None:
    answer = await committing_client.post(
        f"/reviews/{held_payment}/{decision}", headers=reviewer_auth
    )

    assert answer.status_code == 200, answer.text
    assert await reviewed(db_engine, held_payment) == (reviewer.id, True)
    name, payload = (await events_of(db_engine, held_payment))[-1]
    assert (name, payload["reviewed_by"]) == (event, str(reviewer.id))


async def test_another_reviewer_cannot_decide_again(
    *,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    settings: Settings,
    reviewer: Customer,
    reviewer_auth: dict[str, str],
    held_payment: str,
    db_engine: AsyncEngine,
) -> None:
    other = auth(settings, await make_customer(committed_session, "other", role=Role.STAFF))
    first = await committing_client.post(f"/reviews/{held_payment}/approve", headers=reviewer_auth)
    assert first.status_code == 200

    for decision in ("approve", "reject"):
        answer = await committing_client.post(f"/reviews/{held_payment}/{decision}", headers=other)
        assert answer.status_code == 409, answer.text

    assert await reviewed(db_engine, held_payment) == (reviewer.id, True)
    names = [name for name, _ in await events_of(db_engine, held_payment)]
    assert names == ["payment.requested", "payment.held", "payment.completed"]
    # Its own reviewer's retry is answered, as before.
    again = await committing_client.post(f"/reviews/{held_payment}/approve", headers=reviewer_auth)
    assert again.status_code == 200


async def test_a_reviewer_is_recorded_with_the_time_or_not_at_all(
    *, reviewer: Customer, held_payment: str, db_engine: AsyncEngine
) -> None:
    payment_id = uuid.UUID(held_payment)
    halves = [
        ("UPDATE payments SET reviewed_by = :by WHERE id = :id", {"by": reviewer.id}),
        ("UPDATE payments SET reviewed_at = now() WHERE id = :id", {}),
    ]
    for statement, values in halves:
        with pytest.raises(IntegrityError, match="ck_payments_reviewed_by_and_at_together"):
            async with db_engine.begin() as connection:
                await connection.execute(text(statement), {"id": payment_id, **values})


async def test_the_fraud_check_records_no_reviewer(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    wallets: str,
    fraud_check: Consumer,
    database: Database,
    amqp: AbstractRobustConnection,
    settings: Settings,
    db_engine: AsyncEngine,
) -> None:
    payment = await send(committing_client, alice_auth, wallets, 10)
    await relay(database, amqp, settings)
    await settled(committing_client, alice_auth, payment["id"], "completed")

    assert await reviewed(db_engine, payment["id"]) == (None, False)
    assert "reviewed_by" not in (await events_of(db_engine, payment["id"]))[-1][1]


async def test_only_staff_review(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    bob_auth: dict[str, str],
    reviewer_auth: dict[str, str],
    held_payment: str,
    db_engine: AsyncEngine,
) -> None:
    for headers in (alice_auth, bob_auth):
        assert (await committing_client.get("/reviews", headers=headers)).status_code == 403
        for decision in ("approve", "reject"):
            answer = await committing_client.post(
                f"/reviews/{held_payment}/{decision}", headers=headers
            )
            assert answer.status_code == 403
    assert await status_of(committing_client, alice_auth, held_payment) == "held"
    assert await reviewed(db_engine, held_payment) == (None, False)
    unknown = await committing_client.post(
        f"/reviews/{uuid.uuid4()}/approve", headers=reviewer_auth
    )
    assert unknown.status_code == 404


async def test_a_payment_not_held_cannot_be_reviewed(
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    reviewer_auth: dict[str, str],
    wallets: str,
) -> None:
    """Pending (the check has not run: no consumer in this test) is not held."""
    payment = await send(committing_client, alice_auth, wallets, 10)
    for decision in ("approve", "reject"):
        answer = await committing_client.post(
            f"/reviews/{payment['id']}/{decision}", headers=reviewer_auth
        )
        assert answer.status_code == 409
    assert await status_of(committing_client, alice_auth, payment["id"]) == "pending"


async def test_a_redelivered_request_has_one_effect(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    bob_auth: dict[str, str],
    wallets: str,
    fraud_check: Consumer,
    database: Database,
    amqp: AbstractRobustConnection,
    settings: Settings,
    db_engine: AsyncEngine,
    committed_session: AsyncSession,
) -> None:
    """The relay publishes the same row three times (it died each time before marking it):
    the same message id, handled once."""
    payment = await send(committing_client, alice_auth, wallets, 300)
    for _ in range(3):
        await relay(database, amqp, settings)
        async with database.sessionmaker.begin() as session:
            await session.execute(
                OutboxEvent.__table__.update().values(published_at=None)  # type: ignore[attr-defined]
            )

    await settled(committing_client, alice_auth, payment["id"], "completed")
    await asyncio.sleep(0.5)  # time for the copies to arrive, were they to act
    assert (await balance(committing_client, bob_auth))["balance"] == 300
    names = [name for name, _ in await events_of(db_engine, payment["id"])]
    assert names.count("payment.completed") == 1


async def test_a_reject_after_an_approval_that_never_recorded_records_the_completion(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    bob_auth: dict[str, str],
    reviewer_auth: dict[str, str],
    held_payment: str,
    ledger: LedgerClient,
    db_engine: AsyncEngine,
) -> None:
    """An approval posted the transfer, then its process died before recording it: the
    money moved, so a later reject must not call the payment rejected."""
    await ledger.post(uuid.UUID(held_payment))

    rejecting = await committing_client.post(
        f"/reviews/{held_payment}/reject", headers=reviewer_auth
    )

    assert rejecting.status_code == 409, rejecting.text
    assert await status_of(committing_client, alice_auth, held_payment) == "completed"
    assert (await balance(committing_client, bob_auth))["balance"] == 2_000
    names = [name for name, _ in await events_of(db_engine, held_payment)]
    assert names == ["payment.requested", "payment.held", "payment.completed"]


async def test_an_approval_after_a_reject_that_never_recorded_records_the_rejection(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    reviewer_auth: dict[str, str],
    held_payment: str,
    ledger: LedgerClient,
) -> None:
    await ledger.void(uuid.UUID(held_payment))

    approving = await committing_client.post(
        f"/reviews/{held_payment}/approve", headers=reviewer_auth
    )

    assert approving.status_code == 409, approving.text
    assert approving.json()["reason"] == "rejected_by_review"
    assert await status_of(committing_client, alice_auth, held_payment) == "rejected"


async def test_a_retry_of_a_payment_rejected_on_review_is_a_409_not_an_error(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    reviewer_auth: dict[str, str],
    wallets: str,
    fraud_check: Consumer,
    database: Database,
    amqp: AbstractRobustConnection,
    settings: Settings,
) -> None:
    same_key = alice_auth | key()
    body = {"to_wallet_id": wallets, "amount": 2_000}
    first = await committing_client.post("/payments/transfers", json=body, headers=same_key)
    await relay(database, amqp, settings)
    await settled(committing_client, alice_auth, first.json()["id"], "held")
    await committing_client.post(f"/reviews/{first.json()['id']}/reject", headers=reviewer_auth)

    retry = await committing_client.post("/payments/transfers", json=body, headers=same_key)

    assert retry.status_code == 409, retry.text
    assert retry.json()["reason"] == "rejected_by_review"


async def test_staff_cannot_review_their_own_payment(
    *,
    committing_client: AsyncClient,
    reviewer_auth: dict[str, str],
    wallets: str,
    fraud_check: Consumer,
    database: Database,
    amqp: AbstractRobustConnection,
    settings: Settings,
) -> None:
    await open_wallet(committing_client, reviewer_auth)
    await top_up(committing_client, reviewer_auth, 5_000)
    own = await send(committing_client, reviewer_auth, wallets, 2_000)
    await relay(database, amqp, settings)
    await settled(committing_client, reviewer_auth, own["id"], "held")

    for decision in ("approve", "reject"):
        answer = await committing_client.post(
            f"/reviews/{own['id']}/{decision}", headers=reviewer_auth
        )
        assert answer.status_code == 403, answer.text
    assert await status_of(committing_client, reviewer_auth, own["id"]) == "held"

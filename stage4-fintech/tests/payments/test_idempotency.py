"""A retried request never moves money twice: the payment's id is derived from the
customer and the Idempotency-Key, and is the ledger's transfer id."""

import asyncio
import uuid

import httpx
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from payments.config import Settings
from payments.models import Payment
from roadmap_shared.testing.live_server import live_server
from tests.payments.factories import balance, events_of, key, open_wallet, top_up

COPIES = 20


async def test_twenty_copies_of_one_request_at_once_make_one_payment(
    *,
    app: FastAPI,
    settings: Settings,
    alice_auth: dict[str, str],
    bob_auth: dict[str, str],
    db_engine: AsyncEngine,
    committed_session: AsyncSession,
) -> None:
    """Over real HTTP, against a server of its own: twenty connections, one key."""
    with live_server(app, settings) as port:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            await open_wallet(http, alice_auth)
            bobs_wallet = await open_wallet(http, bob_auth)
            await top_up(http, alice_auth, 1_000)
            one_key = key()

            answers = await asyncio.gather(
                *(
                    http.post(
                        "/payments/transfers",
                        json={"to_wallet_id": bobs_wallet, "amount": 250},
                        headers=alice_auth | one_key,
                    )
                    for _ in range(COPIES)
                )
            )

            assert {answer.status_code for answer in answers} <= {200, 201}
            assert [answer.status_code for answer in answers].count(201) == 1
            assert len({answer.json()["id"] for answer in answers}) == 1
            alices = await balance(http, alice_auth)
    assert (alices["balance"], alices["reserved"]) == (1_000, 250)
    payment_id = answers[0].json()["id"]
    transfers = select(func.count()).select_from(Payment).where(Payment.kind == "transfer")
    assert await committed_session.scalar(transfers) == 1
    assert [name for name, _ in await events_of(db_engine, payment_id)] == ["payment.requested"]


async def test_a_retry_answers_what_the_first_request_did(
    committing_client: AsyncClient, alice_auth: dict[str, str]
) -> None:
    await open_wallet(committing_client, alice_auth)
    one_key = key()
    first = await committing_client.post(
        "/payments/top-ups", json={"amount": 300}, headers=alice_auth | one_key
    )
    retry = await committing_client.post(
        "/payments/top-ups", json={"amount": 300}, headers=alice_auth | one_key
    )

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert (await balance(committing_client, alice_auth))["balance"] == 300


async def test_a_key_used_for_another_request_is_refused(
    committing_client: AsyncClient, alice_auth: dict[str, str]
) -> None:
    await open_wallet(committing_client, alice_auth)
    one_key = key()
    await committing_client.post(
        "/payments/top-ups", json={"amount": 300}, headers=alice_auth | one_key
    )

    other_amount = await committing_client.post(
        "/payments/top-ups", json={"amount": 301}, headers=alice_auth | one_key
    )
    other_kind = await committing_client.post(
        "/payments/payouts", json={"amount": 300}, headers=alice_auth | one_key
    )

    assert other_amount.status_code == other_kind.status_code == 422
    assert "Idempotency-Key" in other_amount.json()["detail"]
    assert (await balance(committing_client, alice_auth))["balance"] == 300


async def test_two_customers_may_use_the_same_key(
    committing_client: AsyncClient, alice_auth: dict[str, str], bob_auth: dict[str, str]
) -> None:
    """The key is the customer's: it names their request, not one in the whole service."""
    shared_key = key(str(uuid.uuid4()))
    for headers in (alice_auth, bob_auth):
        await open_wallet(committing_client, headers)
        answer = await committing_client.post(
            "/payments/top-ups", json={"amount": 10}, headers=headers | shared_key
        )
        assert answer.status_code == 201
    assert (await balance(committing_client, bob_auth))["balance"] == 10

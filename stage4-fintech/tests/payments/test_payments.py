"""Top-ups, transfers and payouts through the API, against the real ledger: what moves,
what is reserved, what is refused, and who may see what."""

import uuid

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from payments.models import Customer
from tests.payments.factories import balance, events_of, key, open_wallet, top_up


async def test_a_top_up_completes_at_once_and_announces_it(
    committing_client: AsyncClient,
    alice: Customer,
    alice_auth: dict[str, str],
    db_engine: AsyncEngine,
) -> None:
    wallet = await open_wallet(committing_client, alice_auth)

    payment = await top_up(committing_client, alice_auth, 2_500)

    assert payment["status"] == "completed"
    assert payment["kind"] == "top_up"
    assert payment["credit_account_id"] == wallet
    assert (await balance(committing_client, alice_auth))["balance"] == 2_500
    events = await events_of(db_engine, payment["id"])
    assert [event_type for event_type, _ in events] == ["payment.requested", "payment.completed"]
    requested = events[0][1]
    assert requested == {
        "payment_id": payment["id"],
        "kind": "top_up",
        "customer_id": str(alice.id),
        "debit_account_id": payment["debit_account_id"],
        "credit_account_id": wallet,
        "amount": 2_500,
        "currency": "EUR",
        "occurred_at": requested["occurred_at"],
    }
    assert set(events[1][1]) == {"payment_id", "customer_id", "amount", "currency", "occurred_at"}


async def test_a_transfer_reserves_the_money_until_the_fraud_check_decides(
    committing_client: AsyncClient, alice_auth: dict[str, str], bob_auth: dict[str, str]
) -> None:
    await open_wallet(committing_client, alice_auth)
    bobs_wallet = await open_wallet(committing_client, bob_auth)
    await top_up(committing_client, alice_auth, 1_000)

    answer = await committing_client.post(
        "/payments/transfers",
        json={"to_wallet_id": bobs_wallet, "amount": 300},
        headers=alice_auth | key(),
    )

    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "pending"
    assert answer.headers["Location"] == f"/payments/{answer.json()['id']}"
    alices = await balance(committing_client, alice_auth)
    assert (alices["balance"], alices["reserved"], alices["available"]) == (1_000, 300, 700)
    assert (await balance(committing_client, bob_auth))["balance"] == 0


async def test_a_payout_reserves_the_money_too(
    committing_client: AsyncClient, alice_auth: dict[str, str]
) -> None:
    await open_wallet(committing_client, alice_auth)
    await top_up(committing_client, alice_auth, 1_000)

    answer = await committing_client.post(
        "/payments/payouts", json={"amount": 400}, headers=alice_auth | key()
    )

    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "pending"
    assert (await balance(committing_client, alice_auth))["available"] == 600


async def test_more_than_the_wallet_holds_is_refused_and_nothing_moves(
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    bob_auth: dict[str, str],
    db_engine: AsyncEngine,
) -> None:
    await open_wallet(committing_client, alice_auth)
    bobs_wallet = await open_wallet(committing_client, bob_auth)
    await top_up(committing_client, alice_auth, 100)
    request_key = key()

    answer = await committing_client.post(
        "/payments/transfers",
        json={"to_wallet_id": bobs_wallet, "amount": 101},
        headers=alice_auth | request_key,
    )

    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["reason"] == "insufficient_funds"
    assert (await balance(committing_client, alice_auth))["available"] == 100
    # The refusal is recorded: the same request again is refused the same way, and the
    # payment was announced as requested, then rejected.
    again = await committing_client.post(
        "/payments/transfers",
        json={"to_wallet_id": bobs_wallet, "amount": 101},
        headers=alice_auth | request_key,
    )
    assert again.status_code == 409
    [payment] = (await committing_client.get("/payments", headers=alice_auth)).json()["items"][:1]
    assert payment["status"] == "rejected"
    events = await events_of(db_engine, payment["id"])
    assert [event_type for event_type, _ in events] == ["payment.requested", "payment.rejected"]
    assert events[1][1]["reason"] == "insufficient_funds"


async def test_a_payout_of_more_than_is_available_is_refused(
    committing_client: AsyncClient, alice_auth: dict[str, str]
) -> None:
    await open_wallet(committing_client, alice_auth)
    answer = await committing_client.post(
        "/payments/payouts", json={"amount": 1}, headers=alice_auth | key()
    )
    assert answer.status_code == 409
    assert answer.json()["reason"] == "insufficient_funds"


async def test_money_moves_only_from_an_open_wallet(
    committing_client: AsyncClient, alice_auth: dict[str, str]
) -> None:
    for path, body in [
        ("/payments/top-ups", {"amount": 1}),
        ("/payments/payouts", {"amount": 1}),
        ("/payments/transfers", {"to_wallet_id": str(uuid.uuid4()), "amount": 1}),
    ]:
        answer = await committing_client.post(path, json=body, headers=alice_auth | key())
        assert answer.status_code == 409, path
        assert "wallet" in answer.json()["detail"]


async def test_a_transfer_needs_a_wallet_that_exists_and_is_not_ones_own(
    committing_client: AsyncClient, alice_auth: dict[str, str]
) -> None:
    own = await open_wallet(committing_client, alice_auth)
    await top_up(committing_client, alice_auth, 100)
    for to in (str(uuid.uuid4()), own):
        answer = await committing_client.post(
            "/payments/transfers",
            json={"to_wallet_id": to, "amount": 1},
            headers=alice_auth | key(),
        )
        assert answer.status_code == 422, to
    assert (await balance(committing_client, alice_auth))["available"] == 100


async def test_bad_amounts_and_bodies_are_422(
    committing_client: AsyncClient, alice_auth: dict[str, str]
) -> None:
    await open_wallet(committing_client, alice_auth)
    for body in [
        {"amount": 0},
        {"amount": -5},
        {"amount": 1.5},
        {"amount": "10"},
        {"amount": 100_000_001},  # above PAYMENTS_MAX_AMOUNT
        {"amount": 2**63},
        {},
    ]:
        answer = await committing_client.post(
            "/payments/top-ups", json=body, headers=alice_auth | key()
        )
        assert answer.status_code == 422, body
        assert answer.headers["content-type"] == "application/problem+json"
    assert (await balance(committing_client, alice_auth))["balance"] == 0


async def test_every_money_moving_request_needs_an_idempotency_key(
    committing_client: AsyncClient, alice_auth: dict[str, str]
) -> None:
    await open_wallet(committing_client, alice_auth)
    for headers in [alice_auth, alice_auth | {"Idempotency-Key": ""}, alice_auth | key("x" * 256)]:
        answer = await committing_client.post(
            "/payments/top-ups", json={"amount": 1}, headers=headers
        )
        assert answer.status_code == 422
    assert (await balance(committing_client, alice_auth))["balance"] == 0


async def test_nothing_without_a_valid_token(committing_client: AsyncClient) -> None:
    bad = {"Authorization": "Bearer not-a-token"}
    for method, path in [
        ("POST", "/wallet"),
        ("GET", "/wallet"),
        ("POST", "/payments/top-ups"),
        ("POST", "/payments/transfers"),
        ("POST", "/payments/payouts"),
        ("GET", "/payments"),
        ("GET", f"/payments/{uuid.uuid4()}"),
        ("GET", "/reviews"),
        ("POST", f"/reviews/{uuid.uuid4()}/approve"),
        ("POST", f"/reviews/{uuid.uuid4()}/reject"),
    ]:
        for headers in ({}, bad):
            answer = await committing_client.request(
                method, path, json={"amount": 1}, headers=headers | key()
            )
            assert answer.status_code == 401, (method, path)


async def test_customers_see_only_their_own_payments(
    committing_client: AsyncClient, alice_auth: dict[str, str], bob_auth: dict[str, str]
) -> None:
    await open_wallet(committing_client, alice_auth)
    await open_wallet(committing_client, bob_auth)
    alices = await top_up(committing_client, alice_auth, 700)
    await top_up(committing_client, bob_auth, 5)

    mine = await committing_client.get(f"/payments/{alices['id']}", headers=alice_auth)
    assert mine.status_code == 200
    assert mine.headers["Cache-Control"] == "no-store"
    assert (
        await committing_client.get(f"/payments/{alices['id']}", headers=bob_auth)
    ).status_code == 404
    bobs_list = (await committing_client.get("/payments", headers=bob_auth)).json()
    assert [item["amount"] for item in bobs_list["items"]] == [5]
    assert (await balance(committing_client, bob_auth))["balance"] == 5
    assert (
        await committing_client.get("/payments/not-a-uuid", headers=alice_auth)
    ).status_code == 422


async def test_a_wallet_opens_once_and_only_its_owner_reads_it(
    committing_client: AsyncClient, alice_auth: dict[str, str], bob_auth: dict[str, str]
) -> None:
    assert (await committing_client.get("/wallet", headers=alice_auth)).status_code == 404
    first = await committing_client.post("/wallet", headers=alice_auth)
    again = await committing_client.post("/wallet", headers=alice_auth)

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert (await committing_client.get("/wallet", headers=bob_auth)).status_code == 404
    read = await committing_client.get("/wallet", headers=alice_auth)
    assert read.json()["id"] == first.json()["id"]
    assert read.headers["Cache-Control"] == "no-store"


async def test_payments_are_counted_by_outcome(
    committing_client: AsyncClient, alice_auth: dict[str, str]
) -> None:
    def completed(metrics: str) -> float:
        [line] = [
            line
            for line in metrics.splitlines()
            if line.startswith('payments_total{outcome="completed"}')
        ]
        return float(line.split()[-1])

    before = completed((await committing_client.get("/metrics")).text)
    await open_wallet(committing_client, alice_auth)
    await top_up(committing_client, alice_auth, 10)

    metrics = (await committing_client.get("/metrics")).text
    assert completed(metrics) == before + 1
    assert 'payments_total{outcome="held"}' in metrics
    assert 'http_requests_total{method="POST",route="/payments/top-ups",status="201"}' in metrics

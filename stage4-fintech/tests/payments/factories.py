import uuid
from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from payments.config import Settings
from payments.models import Customer, OutboxEvent, Role
from roadmap_shared.security.tokens import ACCESS_TOKEN_TYPE

PASSWORD = "correct horse battery staple"


async def make_customer(
    session: AsyncSession, name: str, *, role: Role = Role.CUSTOMER
) -> Customer:
    """A customer written straight to the database (committed): the sign-up's hashing is
    tested in test_customers.py, not paid for by every test."""
    customer = Customer(
        id=uuid.uuid4(),
        email=f"{name}-{uuid.uuid4().hex[:8]}@example.com",
        name=name,
        password_hash="not a hash: this customer signs in with a token only",
        role=role,
    )
    session.add(customer)
    await session.commit()
    return customer


def auth(settings: Settings, customer: Customer) -> dict[str, str]:
    issued = settings.token_signer().encode(
        subject=str(customer.id),
        token_type=ACCESS_TOKEN_TYPE,
        lifetime=settings.access_token_lifetime,
    )
    return {"Authorization": f"Bearer {issued.token}"}


def key(value: str | None = None) -> dict[str, str]:
    return {"Idempotency-Key": value or str(uuid.uuid4())}


async def open_wallet(client: AsyncClient, headers: dict[str, str]) -> str:
    answer = await client.post("/wallet", headers=headers)
    assert answer.status_code == 201, answer.text
    wallet_id: str = answer.json()["id"]
    return wallet_id


async def top_up(client: AsyncClient, headers: dict[str, str], amount: int) -> dict[str, Any]:
    answer = await client.post(
        "/payments/top-ups", json={"amount": amount}, headers=headers | key()
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def balance(client: AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    answer = await client.get("/wallet", headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def events_of(engine: AsyncEngine, payment_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The outbox's events about one payment, in the order they were written."""
    async with AsyncSession(engine) as session:
        rows = await session.execute(
            select(OutboxEvent.event_type, OutboxEvent.payload)
            .where(OutboxEvent.payload["payment_id"].astext == payment_id)
            .order_by(OutboxEvent.id)
        )
        return [(event_type, payload) for event_type, payload in rows]


async def count_events(engine: AsyncEngine) -> int:
    async with AsyncSession(engine) as session:
        return await session.scalar(select(func.count()).select_from(OutboxEvent)) or 0

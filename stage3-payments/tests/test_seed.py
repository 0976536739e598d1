from httpx import AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from billing.models import Membership, Payment, PaymentStatus, Refund, User
from billing.seed import ACCOUNTS, ORGANIZATIONS, PASSWORD, seed


async def count(session: AsyncSession, model: type[object]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_seed_fills_an_empty_database_and_is_safe_to_run_again(
    db_session: AsyncSession,
) -> None:
    heard: list[str] = []
    first = await seed(db_session, payments_per_organization=10, progress=heard.append)
    second = await seed(db_session, payments_per_organization=10)

    assert (first.users_created, first.organizations_created) == (len(ACCOUNTS), 3)
    assert first.payments_created == 30
    assert first.refunds_created > 0
    assert heard[0] == f"  users: {len(ACCOUNTS)} created"
    assert second == type(second)(0, 0, 0, 0)
    # Read as the database's owner, past row-level security: every tenant's rows.
    await db_session.execute(text("RESET ROLE"))
    assert await count(db_session, User) == len(ACCOUNTS)
    memberships = sum(len(people) for people in ORGANIZATIONS.values())
    assert await count(db_session, Membership) == memberships
    assert await count(db_session, Payment) == 30
    assert await count(db_session, Refund) == first.refunds_created
    # Nothing at Stripe: no seeded row names a Stripe object.
    named = select(func.count()).where(Payment.stripe_payment_intent_id.is_not(None))
    assert await db_session.scalar(named) == 0


async def test_a_seeded_pending_payment_cannot_be_resumed(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    """Seeded payments were never sent to Stripe and have no idempotency key: resuming one
    is a 409 (as refunding one is), not a 500."""
    await seed(db_session, payments_per_organization=10)
    await db_session.execute(text("RESET ROLE"))
    pending = (
        await db_session.scalars(select(Payment).where(Payment.status == PaymentStatus.PENDING))
    ).first()
    assert pending is not None
    owner_email = await db_session.scalar(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == pending.organization_id, Membership.role == "owner")
    )
    login = await client.post("/users/login", json={"email": owner_email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    resumed = await client.post(
        f"/organizations/{pending.organization_id}/payments/{pending.id}/intent", headers=headers
    )

    assert resumed.status_code == 409, resumed.text
    assert resumed.headers["content-type"] == "application/problem+json"

"""Demo data: `python -m billing.seed` (or `make seed STAGE=stage3-payments`).

Creates accounts, organisations with members in each role (one person in two of them), and
a few months of credit purchases, some refunded in part or in full, some abandoned or
declined. Deterministic (a fixed random seed and dates), so every machine gets the same
data. Safe to run again: accounts are created only if missing, organisations and their
payments only if there are none yet. It refuses to run in production.

Our tables only: Stripe is never called. The seeded payments have no PaymentIntent (their
Stripe ids are empty), so they are history to look at, not payments to refund through the
API (409), and `python -m billing.reconcile` lists them as missing at Stripe.
"""

import argparse
import asyncio
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from billing.config import Settings, get_settings
from billing.models import (
    Membership,
    Organization,
    Payment,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
    Role,
    User,
)
from billing.payments.catalogue import PRICES, Product
from billing.tenancy import act_for_organization
from roadmap_shared.database import Database
from roadmap_shared.security.passwords import hash_password
from roadmap_shared.settings import Environment

# Development-only accounts, printed at the end so a learner can log in straight away.
PASSWORD = "billing-demo-password"  # noqa: S105 (printed for people trying the demo)
ACCOUNTS = [
    ("olivia@example.com", "Olivia Owner"),
    ("adam@example.com", "Adam Admin"),
    ("mia@example.com", "Mia Member"),
    ("gus@example.com", "Gus Owner"),
    ("hana@example.com", "Hana Admin"),
    ("leo@example.com", "Leo Member"),
    ("noor@example.com", "Noor Member"),
]
# Each organisation's people by role; Olivia owns Acme and is a plain member of Globex.
ORGANIZATIONS = {
    "Acme Analytics": [
        ("olivia@example.com", Role.OWNER),
        ("adam@example.com", Role.ADMIN),
        ("mia@example.com", Role.MEMBER),
        ("noor@example.com", Role.MEMBER),
    ],
    "Globex Studio": [
        ("gus@example.com", Role.OWNER),
        ("hana@example.com", Role.ADMIN),
        ("leo@example.com", Role.MEMBER),
        ("olivia@example.com", Role.MEMBER),
    ],
    "Initech Labs": [("hana@example.com", Role.OWNER), ("leo@example.com", Role.ADMIN)],
}
# How the seeded payments ended, with their weights: most paid, a few never confirmed
# (the customer closed the page), declined or canceled.
OUTCOMES = {
    PaymentStatus.SUCCEEDED: 14,
    PaymentStatus.PENDING: 2,
    PaymentStatus.FAILED: 2,
    PaymentStatus.CANCELED: 1,
}
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


@dataclass(frozen=True)
class SeedReport:
    users_created: int
    organizations_created: int
    payments_created: int
    refunds_created: int


def _quiet(_: str) -> None:
    pass


async def seed(
    session: AsyncSession,
    *,
    payments_per_organization: int = 12,
    progress: Callable[[str], None] = _quiet,
) -> SeedReport:
    """Creates what is missing; `progress` hears one line per step as it goes."""
    rng = random.Random(2026)  # noqa: S311  (demo data, not secrets)
    users = await _seed_users(session)
    created = sum(user_id is not None for user_id in users.values())
    progress(f"  users: {created} created")
    if await session.scalar(select(func.count()).select_from(Organization)):
        return SeedReport(created, 0, 0, 0)
    ids = {
        email: await session.scalar(select(User.id).where(User.email == email))
        for email, _ in ACCOUNTS
    }
    payments = refunds = 0
    for name, people in ORGANIZATIONS.items():
        organization = Organization(name=name)
        session.add(organization)
        await session.flush()
        # Tenant rows are written as every writer writes them: under the organisation's
        # row-level security.
        await act_for_organization(session, organization.id)
        session.add_all(
            Membership(organization_id=organization.id, user_id=ids[email], role=role)
            for email, role in people
        )
        managers = [ids[email] for email, role in people if role.manages_billing]
        for _ in range(payments_per_organization):
            payment = _payment(rng, organization.id, rng.choice(managers))
            session.add(payment)
            await session.flush()
            payments += 1
            if payment.status is PaymentStatus.SUCCEEDED and rng.random() < 0.25:
                session.add(_refund(rng, payment, rng.choice(managers)))
                refunds += 1
        await session.flush()
        progress(f"  {name}: {len(people)} members, {payments_per_organization} payments")
    progress(f"  refunds: {refunds}")
    return SeedReport(created, len(ORGANIZATIONS), payments, refunds)


async def _seed_users(session: AsyncSession) -> dict[str, int | None]:
    """The id of each account created now; None for those that were already there."""
    password_hash = await hash_password(PASSWORD)
    return {
        email: await session.scalar(
            pg_insert(User)
            .values(email=email, name=name, password_hash=password_hash)
            .on_conflict_do_nothing(index_elements=[User.email])
            .returning(User.id)
        )
        for email, name in ACCOUNTS
    }


def _payment(rng: random.Random, organization_id: int, buyer: int | None) -> Payment:
    product = rng.choice(list(Product))
    price = PRICES[product]
    status = rng.choices(list(OUTCOMES), weights=list(OUTCOMES.values()))[0]
    paid = status is PaymentStatus.SUCCEEDED
    created = NOW - timedelta(minutes=rng.randrange(90 * 24 * 60))
    return Payment(
        organization_id=organization_id,
        created_by=buyer,
        product=product.value,
        amount=price.amount,
        currency=price.currency,
        status=status,
        amount_captured=price.amount if paid else 0,
        amount_refunded=0,
        credits_granted=price.credits if paid else 0,
        created_at=created,
        updated_at=created + timedelta(seconds=rng.randint(5, 120)),
    )


def _refund(rng: random.Random, payment: Payment, requested_by: int | None) -> Refund:
    # Half of them in full, the others a round part of the amount.
    amount = payment.amount if rng.random() < 0.5 else payment.amount // rng.choice([2, 4, 5])
    payment.amount_refunded = amount
    created = payment.created_at + timedelta(days=rng.randint(1, 20))
    return Refund(
        organization_id=payment.organization_id,
        payment_id=payment.id,
        requested_by=requested_by,
        amount=amount,
        reason=rng.choice(list(RefundReason)),
        status=RefundStatus.SUCCEEDED,
        created_at=created,
        updated_at=created,
    )


def _print_now(line: str) -> None:
    print(line, flush=True)


async def run(settings: Settings) -> SeedReport:
    database = Database.from_settings(settings, pool_size=1, max_overflow=0)
    try:
        async with database.sessionmaker() as session, session.begin():
            return await seed(session, progress=_print_now)
    finally:
        await database.dispose()


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    settings = get_settings()
    if settings.environment is Environment.PRODUCTION:
        sys.exit("Refusing to seed demo accounts into a production database.")
    print("Seeding our tables only: nothing is created at Stripe.")
    report = asyncio.run(run(settings))
    if report.organizations_created == 0:
        print("There are organisations already; they were left as they are.")
    else:
        print(
            f"Created {report.organizations_created} organisations, "
            f"{report.payments_created} payments and {report.refunds_created} refunds."
        )
    print(f"Created {report.users_created} user(s). Log in with any of these, password {PASSWORD}:")
    for name, people in ORGANIZATIONS.items():
        print(f"  {name}: " + ", ".join(f"{email} ({role.value})" for email, role in people))


if __name__ == "__main__":
    main()

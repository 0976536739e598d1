"""`python -m billing.reconcile --since 2026-12-01 [--until 2026-12-08]` (or `make reconcile
STAGE=stage3-payments SINCE=... [UNTIL=...]`): does Stripe's ledger agree with ours?

Stripe's ledger is its balance transactions: one per charge that moved money (`charge`,
or `payment`), one per refund (`refund`), one more when a refund comes back from the bank
(`refund_failure`). Each is compared with our payment (by its PaymentIntent) or our refund
(by its Stripe id), and every difference is printed as a line of a table:

- on Stripe only: money moved that we have no record of, or record as not having moved
  (a payment we never fulfilled, a refund we think failed);
- ours only: a payment we marked paid, or a refund we made, that Stripe has no trace of;
- a different amount or currency.

The exit status is 1 when there is any difference, so a scheduled run can alert (and
another non-zero status, with one line saying why, when Stripe could not be read).

The period is whole UTC days, `--since` included, `--until` excluded (default: up to now).
A payment is dated by when we created it and Stripe's charge by when it was paid, a little
later: so Stripe's ledger is read `MARGIN` past the end, for the charges of payments started
just before it, and what Stripe has in that margin alone is left to the next period.

Read only: nothing is changed on either side. Our rows are read organisation by
organisation, under row-level security like every other reader.
"""

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.config import get_settings
from billing.models import (
    Organization,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from billing.stripe_gateway import StripeGateway
from billing.tenancy import act_for_organization
from roadmap_shared.database import Database, utcnow
from roadmap_shared.errors import ProblemError
from roadmap_shared.logging import configure_logging

MARGIN = timedelta(days=1)
# Balance transaction types that record a payment or a refund; the others (fees, payouts,
# disputes' adjustments...) are Stripe's own bookkeeping, not ours to match.
CHARGE_TYPES = ("charge", "payment")


@dataclass(frozen=True)
class Entry:
    """A payment or a refund as one side records it. `key` names it on both sides: the
    PaymentIntent's id for a payment, the refund's id for a refund."""

    kind: str  # "payment" or "refund"
    key: str
    amount: int  # in the currency's minor unit, positive for refunds too
    currency: str
    # Whether the money moved: "succeeded", or our own status when it did not.
    status: str
    created: datetime


@dataclass(frozen=True)
class Difference:
    kind: str
    key: str
    problem: str
    stripe: str
    ours: str


def stripe_entry(transaction: dict[str, Any]) -> Entry | None:
    """The payment or refund a balance transaction records; None for other types. Amounts
    and currencies are the charge's and the refund's own (the expanded `source`): the
    transaction's are in the account's settlement currency, converted."""
    kind = transaction["type"]
    source = transaction["source"]
    created = datetime.fromtimestamp(transaction["created"], UTC)
    if kind in CHARGE_TYPES:
        # A charge made without a PaymentIntent (by hand, in the dashboard) goes by its id.
        key = source["payment_intent"] or source["id"]
        return Entry(
            "payment", key, source["amount_captured"], source["currency"], "succeeded", created
        )
    if kind in ("refund", "refund_failure"):
        status = "succeeded" if kind == "refund" else "failed"
        return Entry("refund", source["id"], source["amount"], source["currency"], status, created)
    return None


async def stripe_ledger(
    gateway: StripeGateway, since: datetime, until: datetime
) -> dict[str, Entry]:
    """Stripe's payments and refunds from `since` to `until` plus the margin, by key."""
    entries: dict[str, Entry] = {}
    # Newest first: a refund's failure is read before the refund it undoes.
    async for transaction in gateway.balance_transactions(
        created_from=int(since.timestamp()), created_before=int((until + MARGIN).timestamp())
    ):
        entry = stripe_entry(transaction)
        if entry is not None and entry.key not in entries:
            entries[entry.key] = entry
    return entries


async def our_ledger(
    session: AsyncSession, since: datetime, until: datetime, stripe_keys: Sequence[str]
) -> dict[str, Entry]:
    """Our payments and refunds that moved money in the period, and any other row Stripe's
    ledger names (whatever its date or status), by key."""
    entries: dict[str, Entry] = {}
    organizations = (await session.scalars(select(Organization.id).order_by(Organization.id))).all()
    in_period = (Payment.created_at >= since) & (Payment.created_at < until)
    for organization_id in organizations:
        await act_for_organization(session, organization_id)
        payments = await session.scalars(
            select(Payment).where(
                or_(
                    in_period & (Payment.status == PaymentStatus.SUCCEEDED),
                    Payment.stripe_payment_intent_id.in_(stripe_keys),
                )
            )
        )
        for payment in payments:
            key = payment.stripe_payment_intent_id or f"payment {payment.id} (no intent)"
            entries[key] = Entry(
                "payment",
                key,
                payment.amount_captured,
                payment.currency,
                payment.status.value,
                payment.created_at,
            )
        refunds = await session.execute(
            select(Refund, Payment.currency)
            .join(Payment, Payment.id == Refund.payment_id)
            .where(
                or_(
                    (Refund.created_at >= since)
                    & (Refund.created_at < until)
                    & (Refund.status != RefundStatus.FAILED),
                    Refund.stripe_refund_id.in_(stripe_keys),
                )
            )
        )
        for refund, currency in refunds:
            key = refund.stripe_refund_id or f"refund {refund.id} (no Stripe id)"
            entries[key] = Entry(
                "refund", key, refund.amount, currency, refund.status.value, refund.created_at
            )
    return entries


def _describe(entry: Entry | None) -> str:
    if entry is None:
        return "-"
    return f"{entry.amount} {entry.currency.upper()} {entry.status}"


def compare(
    stripe: dict[str, Entry], ours: dict[str, Entry], *, until: datetime
) -> list[Difference]:
    differences = []
    for key in sorted(stripe.keys() | ours.keys()):
        theirs, mine = stripe.get(key), ours.get(key)
        problem = None
        if theirs is not None and mine is None:
            if theirs.created < until:  # in the margin alone, it is the next period's
                problem = "missing on our side"
        elif theirs is None or mine is None:
            problem = "missing at Stripe"
        elif theirs.currency != mine.currency:
            problem = "currency differs"
        elif theirs.status != mine.status:  # (an unfulfilled payment's amount differs too)
            problem = "status differs"
        elif theirs.amount != mine.amount:
            problem = "amount differs"
        if problem is not None:
            kind = next(entry.kind for entry in (theirs, mine) if entry is not None)
            differences.append(Difference(kind, key, problem, _describe(theirs), _describe(mine)))
    return differences


async def reconcile(
    session: AsyncSession, gateway: StripeGateway, *, since: datetime, until: datetime
) -> list[Difference]:
    stripe = await stripe_ledger(gateway, since, until)
    ours = await our_ledger(session, since, until, sorted(stripe))
    return compare(stripe, ours, until=until)


def table(differences: Sequence[Difference]) -> str:
    header = Difference("kind", "Stripe id", "difference", "Stripe", "ours")
    rows = [astuple(row) for row in (header, *differences)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


async def _run(since: datetime, until: datetime) -> list[Difference]:
    settings = get_settings()
    database = Database.from_settings(settings, pool_size=1, max_overflow=0)
    gateway = StripeGateway(settings)
    try:
        async with database.sessionmaker() as session, session.begin():
            return await reconcile(session, gateway, since=since, until=until)
    finally:
        await gateway.close()
        await database.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m billing.reconcile",
        description="Compare Stripe's balance transactions with our payments and refunds.",
    )
    parser.add_argument("--since", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    parser.add_argument(
        "--until", type=date.fromisoformat, help="YYYY-MM-DD, excluded (default: now)"
    )
    arguments = parser.parse_args(argv)
    since = _midnight(arguments.since)
    until = utcnow() if arguments.until is None else _midnight(arguments.until)
    if until <= since:
        parser.error("--until must come after --since")
    configure_logging(get_settings().log_level)
    try:
        differences = asyncio.run(_run(since, until))
    except ProblemError as failure:  # Stripe unreachable or refusing: nothing was compared
        sys.exit(f"Could not read Stripe's balance transactions: {failure}")
    period = f"{since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC"
    if not differences:
        print(f"Stripe and our records agree, {period}.")
        return
    print(f"{len(differences)} difference(s), {period}:\n")
    print(table(differences))
    sys.exit(1)


if __name__ == "__main__":
    main()

"""A customer's wallet: an account in the ledger that must not go negative, opened with
the house accounts on the other side of customers' money (both may go negative)."""

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from payments.config import Settings
from payments.ledger_client import LedgerClient
from payments.models import Customer, Wallet
from roadmap_shared.database import Database

# Fixed forever: a wallet's id is derived from its customer's, so that opening it again
# (a retry after a lost answer) names the same ledger account instead of a second one.
WALLET_IDS = uuid.UUID("b5f0f7a2-1c3d-4e8f-9a6b-7d2c1e0f3a48")


def wallet_id(customer_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(WALLET_IDS, str(customer_id))


async def open_wallet(
    database: Database, ledger: LedgerClient, settings: Settings, customer: Customer
) -> tuple[Wallet, bool]:
    """The customer's wallet, and whether it was opened now. The ledger account first:
    a wallet row always names an account that exists."""
    account_id = wallet_id(customer.id)
    await ledger.open_accounts(
        [
            (settings.settlement_account_id, False),
            (settings.payouts_account_id, False),
            (account_id, True),
        ],
        settings.currency,
    )
    async with database.sessionmaker.begin() as session:
        opened = await session.scalar(
            insert(Wallet)
            .values(id=account_id, customer_id=customer.id, currency=settings.currency)
            .on_conflict_do_nothing(index_elements=[Wallet.customer_id])
            .returning(Wallet)
        )
        if opened is not None:
            return opened, True
        existing = await own(session, customer.id)
    assert existing is not None  # noqa: S101 (the conflict was on this customer's row)
    return existing, False


async def own(session: AsyncSession, customer_id: uuid.UUID) -> Wallet | None:
    return await session.scalar(select(Wallet).where(Wallet.customer_id == customer_id))


async def get(session: AsyncSession, id_: uuid.UUID) -> Wallet | None:
    return await session.get(Wallet, id_)

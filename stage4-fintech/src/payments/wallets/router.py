from fastapi import APIRouter, Response, status

from payments.dependencies import CallerWithoutSession, DatabaseDep, LedgerDep, SettingsDep
from payments.wallets import service
from payments.wallets.schemas import WalletBalance, WalletPublic
from roadmap_shared.dependencies import NO_STORE
from roadmap_shared.errors import NotFound, problem_responses

# A balance is personal data: never cached.
router = APIRouter(
    prefix="/wallet",
    tags=["wallet"],
    dependencies=[NO_STORE],
    responses=problem_responses(401, 503),
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Open your wallet (once; opening it again answers it, 200)",
)
async def open_wallet(
    customer: CallerWithoutSession,
    database: DatabaseDep,
    ledger: LedgerDep,
    settings: SettingsDep,
    response: Response,
) -> WalletPublic:
    wallet, opened = await service.open_wallet(database, ledger, settings, customer)
    if not opened:
        response.status_code = status.HTTP_200_OK
    return WalletPublic.model_validate(wallet)


@router.get("", summary="Your wallet and its balance", responses=problem_responses(404))
async def read_wallet(
    customer: CallerWithoutSession, database: DatabaseDep, ledger: LedgerDep
) -> WalletBalance:
    async with database.read_sessionmaker() as session:
        wallet = await service.own(session, customer.id)
    if wallet is None:
        raise NotFound("You have no wallet yet: open one with POST /wallet")
    balance = await ledger.balance(wallet.id)
    return WalletBalance(
        id=wallet.id,
        currency=wallet.currency,
        created_at=wallet.created_at,
        balance=balance.balance,
        reserved=balance.pending_debits,
        available=balance.available,
    )

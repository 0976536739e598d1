"""The gRPC API: each method turns messages into the ledger's types, runs the work in one
transaction within the caller's deadline, and answers with results or a status code."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import grpc
from grpc import aio
from sqlalchemy.exc import DataError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ledger import metrics
from ledger.accounts.repository import read_accounts
from ledger.accounts.service import create_accounts, parse_id
from ledger.errors import Reason, Rejected, RetryTransaction
from ledger.history import DEFAULT_PAGE, MAX_PAGE, read_entries
from ledger.outcomes import Outcome
from ledger.rpc import convert
from ledger.transactions import run_in_transaction
from ledger.transfers.repository import find_transfers
from ledger.transfers.service import create_transfers, finish_pending
from ledger.v1 import ledger_pb2 as pb
from ledger.v1 import ledger_pb2_grpc

T = TypeVar("T")
logger = logging.getLogger(__name__)
Context = aio.ServicerContext[Any, Any]

STATUS_BY_REASON = {
    Reason.INVALID_ID: grpc.StatusCode.INVALID_ARGUMENT,
    Reason.INVALID_AMOUNT: grpc.StatusCode.INVALID_ARGUMENT,
    Reason.SAME_ACCOUNT: grpc.StatusCode.INVALID_ARGUMENT,
    Reason.INVALID_TIMEOUT: grpc.StatusCode.INVALID_ARGUMENT,
    Reason.CURRENCY_MISMATCH: grpc.StatusCode.INVALID_ARGUMENT,
    Reason.INVALID_CURRENCY: grpc.StatusCode.INVALID_ARGUMENT,
    Reason.ACCOUNT_NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    Reason.TRANSFER_NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    Reason.INSUFFICIENT_FUNDS: grpc.StatusCode.FAILED_PRECONDITION,
    Reason.NOT_PENDING: grpc.StatusCode.FAILED_PRECONDITION,
    Reason.EXPIRED: grpc.StatusCode.FAILED_PRECONDITION,
    Reason.LIMIT_EXCEEDED: grpc.StatusCode.FAILED_PRECONDITION,
    Reason.ID_REUSED: grpc.StatusCode.ALREADY_EXISTS,
}
# The machine-readable reason of a refusal, beside the status code and its message.
REASON_TRAILER = "ledger-reason"


class LedgerService(ledger_pb2_grpc.LedgerServicer):
    def __init__(self, engine: AsyncEngine, *, max_batch_size: int, attempts: int) -> None:
        self.engine = engine
        self.max_batch_size = max_batch_size
        self.attempts = attempts

    async def run(self, context: Context, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """`work` in a transaction. When the caller's deadline passes, grpc.aio cancels this
        call's task: the statement in flight is cancelled on the server and the transaction
        rolled back, so no work goes on for a caller that stopped waiting. The caller still
        cannot know whether a commit made just before its deadline took effect: for it,
        `DEADLINE_EXCEEDED` is an unknown outcome, settled by a retry with the same ids."""
        try:
            return await run_in_transaction(self.engine, work, attempts=self.attempts)
        except RetryTransaction:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "too much contention; try again")
        except Rejected as error:
            await refuse(context, error)
        except DataError:
            # A value the database cannot hold: the same request would fail again, so the
            # caller is not told to retry.
            logger.exception("a ledger transaction stored a value out of range")
            await context.abort(grpc.StatusCode.INTERNAL, "the ledger could not store this")
        except (SQLAlchemyError, OSError, TimeoutError):
            # Logged in full here; the caller learns only that it may try again (its
            # transfer ids make that safe), never our SQL nor where the database is. A
            # connection refused or timed out reaches us unwrapped by SQLAlchemy.
            logger.exception("a ledger transaction failed")
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the ledger could not commit")

    async def CreateAccounts(
        self, request: pb.CreateAccountsRequest, context: Context
    ) -> pb.CreateAccountsResponse:
        await self.within_batch(context, len(request.accounts), "accounts")
        accounts = [convert.new_account(account) for account in request.accounts]
        results = await self.run(context, lambda c: create_accounts(c, accounts))
        return pb.CreateAccountsResponse(
            results=[
                pb.AccountResult(
                    outcome=convert.OUTCOMES[result.outcome],
                    account=convert.account(result.account),
                )
                for result in results
            ]
        )

    async def LookupAccounts(
        self, request: pb.LookupAccountsRequest, context: Context
    ) -> pb.LookupAccountsResponse:
        await self.within_batch(context, len(request.ids), "ids")
        ids = [await self.parsed(context, value) for value in request.ids]
        accounts = await self.run(context, lambda c: read_accounts(c, ids))
        return pb.LookupAccountsResponse(accounts=[convert.account(a) for a in accounts])

    async def CreateTransfers(
        self, request: pb.CreateTransfersRequest, context: Context
    ) -> pb.CreateTransfersResponse:
        await self.within_batch(context, len(request.transfers), "transfers")
        transfers = [convert.new_transfer(transfer) for transfer in request.transfers]
        results = await self.run(context, lambda c: create_transfers(c, transfers))
        for result in results:  # counted once committed
            metrics.TRANSFERS.labels(result.outcome.value).inc()
        return pb.CreateTransfersResponse(results=[convert.transfer_result(r) for r in results])

    async def within_batch(self, context: Context, size: int, what: str) -> None:
        """One bound on the work any call may ask for, whatever it carries."""
        if not 0 < size <= self.max_batch_size:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"send 1 to {self.max_batch_size} {what}, not {size}",
            )

    async def PostPendingTransfer(
        self, request: pb.PostPendingTransferRequest, context: Context
    ) -> pb.TransferResult:
        return await self.finish(context, request.id, "posted", request.amount)

    async def VoidPendingTransfer(
        self, request: pb.VoidPendingTransferRequest, context: Context
    ) -> pb.TransferResult:
        return await self.finish(context, request.id, "voided")

    async def LookupTransfers(
        self, request: pb.LookupTransfersRequest, context: Context
    ) -> pb.LookupTransfersResponse:
        await self.within_batch(context, len(request.ids), "ids")
        ids = [await self.parsed(context, value) for value in request.ids]
        found = await self.run(context, lambda c: find_transfers(c, ids))
        # In the request's order, as LookupAccounts answers, whatever order SQL chose.
        return pb.LookupTransfersResponse(
            transfers=[convert.transfer(found[id_]) for id_ in dict.fromkeys(ids) if id_ in found]
        )

    async def finish(
        self, context: Context, transfer_id: str, state: str, amount: int = 0
    ) -> pb.TransferResult:
        result = await self.run(context, lambda c: finish_pending(c, transfer_id, state, amount))
        metrics.TRANSFERS.labels(state if result.outcome is Outcome.CREATED else "exists").inc()
        return convert.transfer_result(result)

    async def GetAccountHistory(
        self, request: pb.GetAccountHistoryRequest, context: Context
    ) -> pb.GetAccountHistoryResponse:
        account_id = await self.parsed(context, request.account_id)
        if not 0 <= request.limit <= MAX_PAGE:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"limit: 1 to {MAX_PAGE}")
        limit = request.limit or DEFAULT_PAGE

        async def page(connection: AsyncConnection) -> list[Any]:
            if not await read_accounts(connection, [account_id]):
                raise Rejected(Reason.ACCOUNT_NOT_FOUND, f"no account {account_id}")
            return await read_entries(
                connection, account_id, limit=limit, before_entry_id=request.before_entry_id
            )

        entries = await self.run(context, page)
        return pb.GetAccountHistoryResponse(
            entries=[
                pb.Entry(
                    id=entry.id,
                    transfer_id=str(entry.transfer_id),
                    amount=entry.amount,
                    balance_before=entry.balance_before,
                    balance_after=entry.balance_after,
                    account_version=entry.account_version,
                    created_at_unix_ms=round(entry.created_at.timestamp() * 1000),
                )
                for entry in entries
            ],
            next_before_entry_id=entries[-1].id if len(entries) == limit else 0,
        )

    async def parsed(self, context: Context, value: str) -> Any:
        try:
            return parse_id(value)
        except Rejected as error:
            await refuse(context, error)


async def refuse(context: Context, error: Rejected) -> NoReturn:
    context.set_trailing_metadata(((REASON_TRAILER, f"REASON_{error.reason.value}"),))
    await context.abort(STATUS_BY_REASON[error.reason], error.detail)

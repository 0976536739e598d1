"""The ledger, as this service calls it over gRPC: a deadline on every call, and calls that
failed for want of the ledger sent again after a jittered backoff, a bounded number of
times. Only the code generated from the contract (`ledger.v1`) is imported from the
ledger's package; nothing else of it (see tests/test_service_boundaries.py).

Every method is safe to send again: accounts and transfers carry ids this service
chose, and posting or voiding a transfer already finished is reported, not repeated.
So a retry after a lost answer (DEADLINE_EXCEEDED: the ledger may have committed) uses
the same ids, and the ledger answers `exists` for what it had done."""

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import grpc

from ledger.v1 import ledger_pb2 as pb
from payments.config import Settings
from roadmap_shared.errors import ServiceUnavailable

if TYPE_CHECKING:
    from ledger.v1.ledger_pb2_grpc import LedgerAsyncStub as LedgerStub
else:
    from ledger.v1.ledger_pb2_grpc import LedgerStub

logger = logging.getLogger(__name__)

# The codes that say nothing about the request, only that the ledger did not answer it:
# worth sending again. Every other code is the ledger's answer.
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
# The trailer in which the ledger names the reason of a refusal.
REASON_TRAILER = "ledger-reason"

Answer = TypeVar("Answer")

# After the connection fails, gRPC waits before connecting again, doubling the wait up to
# two minutes by default; meanwhile every call fails at once. A ledger back after a
# restart should be used within a second, not minutes: the waits are capped at that.
CHANNEL_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
)


class LedgerUnavailable(ServiceUnavailable):
    """The ledger did not answer within the attempts: 503 with Retry-After."""


class LedgerRefused(Exception):
    """The ledger answered, and refused: `reason` is its `Reason` name without the prefix
    (`INSUFFICIENT_FUNDS`, `NOT_PENDING`, ...)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Balance:
    balance: int
    pending_debits: int

    @property
    def available(self) -> int:
        return self.balance - self.pending_debits


def _reason_name(reason: int) -> str:
    return pb.Reason.Name(reason).removeprefix("REASON_")  # type: ignore[arg-type]


class LedgerClient:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._channel: grpc.aio.Channel | None = None

    def _stub(self) -> LedgerStub:
        # Opened at the first call, in the running event loop (grpc.aio binds a channel
        # to the loop it was made in).
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(
                self._settings.ledger_address, options=CHANNEL_OPTIONS
            )
        return LedgerStub(self._channel)

    async def aclose(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    async def _call(self, name: str, send: Callable[[float], Awaitable[Answer]]) -> Answer:
        """`send(timeout)` up to `ledger_attempts` times while the ledger does not answer.
        Full jitter: many requests that failed together do not all come back together."""
        settings = self._settings
        for attempt in range(1, settings.ledger_attempts + 1):
            try:
                return await send(settings.ledger_timeout_seconds)
            except grpc.aio.AioRpcError as error:
                if error.code() not in RETRYABLE:
                    raise
                logger.warning("ledger %s: %s (attempt %d)", name, error.code().name, attempt)
            if attempt < settings.ledger_attempts:
                backoff = settings.ledger_backoff_seconds * 2 ** (attempt - 1)
                await asyncio.sleep(random.uniform(0, backoff))  # noqa: S311 (not a secret)
        raise LedgerUnavailable(
            "The ledger is not answering; try again shortly",
            retry_after_seconds=settings.ledger_retry_after_seconds,
        )

    async def open_accounts(self, accounts: list[tuple[uuid.UUID, bool]], currency: str) -> None:
        """Opens `(id, must_not_go_negative)` accounts, all or none; already open is fine."""
        request = pb.CreateAccountsRequest(
            accounts=[
                pb.NewAccount(id=str(id_), currency=currency, must_not_go_negative=strict)
                for id_, strict in accounts
            ]
        )
        await self._call(
            "CreateAccounts", lambda timeout: self._stub().CreateAccounts(request, timeout=timeout)
        )

    async def balance(self, account_id: uuid.UUID) -> Balance:
        request = pb.LookupAccountsRequest(ids=[str(account_id)])
        answer = await self._call(
            "LookupAccounts", lambda timeout: self._stub().LookupAccounts(request, timeout=timeout)
        )
        if not answer.accounts:
            raise LedgerRefused("ACCOUNT_NOT_FOUND", f"no account {account_id}")
        [account] = answer.accounts
        return Balance(balance=account.balance, pending_debits=account.pending_debits)

    async def transfer(
        self,
        transfer_id: uuid.UUID,
        *,
        debit_account_id: uuid.UUID,
        credit_account_id: uuid.UUID,
        amount: int,
        currency: str,
        pending: bool,
    ) -> None:
        """Moves (or, `pending`, reserves) `amount`: done now, or done before by a request
        with this id. `LedgerRefused` when the ledger will not."""
        new = pb.NewTransfer(
            id=str(transfer_id),
            debit_account_id=str(debit_account_id),
            credit_account_id=str(credit_account_id),
            amount=amount,
            currency=currency,
            pending=pending,
            timeout_seconds=self._settings.pending_timeout_seconds if pending else 0,
        )
        request = pb.CreateTransfersRequest(transfers=[new])
        answer = await self._call(
            "CreateTransfers",
            lambda timeout: self._stub().CreateTransfers(request, timeout=timeout),
        )
        [result] = answer.results
        if result.outcome == pb.OUTCOME_REJECTED:
            raise LedgerRefused(_reason_name(result.reason), result.detail)

    async def transfer_state(self, transfer_id: uuid.UUID) -> str | None:
        """`pending`, `posted`, `voided` or `expired`: the transfer as the ledger holds it
        now; None if it holds none under this id (never created, or refused: a refused
        transfer is not stored)."""
        request = pb.LookupTransfersRequest(ids=[str(transfer_id)])
        answer = await self._call(
            "LookupTransfers",
            lambda timeout: self._stub().LookupTransfers(request, timeout=timeout),
        )
        if not answer.transfers:
            return None
        [transfer] = answer.transfers
        return pb.TransferState.Name(transfer.state).removeprefix("TRANSFER_STATE_").lower()

    async def post(self, transfer_id: uuid.UUID) -> None:
        """Posts a pending transfer for its whole amount. Posted before (a retry) is done;
        voided is `LedgerRefused` (`NOT_PENDING`), expired `LedgerRefused` (`EXPIRED`)."""
        request = pb.PostPendingTransferRequest(id=str(transfer_id))
        try:
            await self._call(
                "PostPendingTransfer",
                lambda timeout: self._stub().PostPendingTransfer(request, timeout=timeout),
            )
        except grpc.aio.AioRpcError as error:
            raise LedgerRefused(_trailer_reason(error), error.details() or "") from error

    async def void(self, transfer_id: uuid.UUID) -> None:
        """Releases a pending transfer's reservation. Voided before (a retry) is done, and
        so is a reservation the ledger released itself (`EXPIRED`). Posted before is
        `LedgerRefused` (`NOT_PENDING`): the money moved, by an approval whose record
        never committed (its process died after the ledger answered)."""
        request = pb.VoidPendingTransferRequest(id=str(transfer_id))
        try:
            await self._call(
                "VoidPendingTransfer",
                lambda timeout: self._stub().VoidPendingTransfer(request, timeout=timeout),
            )
        except grpc.aio.AioRpcError as error:
            reason = _trailer_reason(error)
            if reason != "EXPIRED":
                raise LedgerRefused(reason, error.details() or "") from error


def _trailer_reason(error: grpc.aio.AioRpcError) -> str:
    for key, value in error.trailing_metadata() or ():
        if key == REASON_TRAILER:
            text = value.decode() if isinstance(value, bytes) else value
            return text.removeprefix("REASON_")
    return error.code().name

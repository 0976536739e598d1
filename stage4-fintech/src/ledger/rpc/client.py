"""The client of the gRPC API, for other services and the tests: `LedgerClient(channel)`
on a `grpc.aio` channel, whose methods are awaited.

The generated module has one stub class for both kinds of channel; its type stubs name the
asynchronous one `LedgerAsyncStub`, which exists only for the type checker."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.v1.ledger_pb2_grpc import LedgerAsyncStub as LedgerClient
else:
    from ledger.v1.ledger_pb2_grpc import LedgerStub as LedgerClient

__all__ = ["LedgerClient"]

"""A database the ledger cannot reach: callers are told to try again (`UNAVAILABLE`), with
nothing of the connection's details."""

import grpc
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from ledger.config import Settings
from ledger.rpc.client import LedgerClient
from ledger.rpc.server import start_grpc_server
from ledger.v1 import ledger_pb2 as pb

# Nothing listens on the discard port: every connection attempt is refused at once.
UNREACHABLE_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:9/ledger"


async def test_a_database_that_refuses_connections_is_unavailable_not_unknown(
    settings: Settings,
) -> None:
    engine = create_async_engine(UNREACHABLE_DATABASE)
    server, port = await start_grpc_server(settings, engine)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await LedgerClient(channel).LookupAccounts(
                    pb.LookupAccountsRequest(ids=["0" * 32]), timeout=10
                )
    finally:
        await server.stop(grace=None)
        await engine.dispose()

    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "127.0.0.1" not in (refused.value.details() or "")

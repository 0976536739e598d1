"""The gRPC server: the ledger's service behind the metrics interceptor, on one port."""

from grpc import aio
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.config import Settings
from ledger.rpc.interceptor import MetricsInterceptor
from ledger.rpc.service import LedgerService
from ledger.v1 import ledger_pb2_grpc


async def start_grpc_server(settings: Settings, engine: AsyncEngine) -> tuple[aio.Server, int]:
    """The started server and the port it listens on (`grpc_port` 0 picks a free one)."""
    server = aio.server(interceptors=[MetricsInterceptor()])
    ledger_pb2_grpc.add_LedgerServicer_to_server(
        LedgerService(
            engine,
            max_batch_size=settings.max_batch_size,
            attempts=settings.transaction_attempts,
        ),
        server,
    )
    port = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
    await server.start()
    return server, port

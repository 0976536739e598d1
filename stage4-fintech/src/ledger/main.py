"""The app factory: the read-only HTTP API, and (in its lifespan) the gRPC API and the
maintenance loop, in one process so that `/metrics` shows all three."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

from ledger.accounts.router import router as accounts_router
from ledger.config import Settings, get_settings
from ledger.maintenance import maintain
from ledger.rpc.server import start_grpc_server
from roadmap_shared.app import create_app as create_base_app
from roadmap_shared.database import Database
from roadmap_shared.resources import AppResources

DESCRIPTION = """
A double-entry ledger. Other services move money over gRPC (`proto/ledger/v1/ledger.proto`);
this HTTP API reads an account's balance and its entries.
"""


class LedgerResources(AppResources):
    """The database, plus the gRPC server and the maintenance loop, started with the app
    and stopped before the database closes."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(Database.from_settings(settings, pool_size=20))
        self.settings = settings

    @asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        async with super().lifespan(app):  # closes the database last
            engine = self.database.engine
            server, app.state.grpc_port = await start_grpc_server(self.settings, engine)
            maintenance = asyncio.create_task(
                maintain(engine, every_seconds=self.settings.maintenance_every_seconds)
            )
            try:
                yield
            finally:
                maintenance.cancel()
                with suppress(asyncio.CancelledError):
                    await maintenance
                # Calls in flight get a few seconds to finish; new ones are refused.
                await server.stop(grace=5)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_base_app(
        settings,
        title="Ledger",
        description=DESCRIPTION,
        routers=[accounts_router],
        resources=LedgerResources(settings),
    )

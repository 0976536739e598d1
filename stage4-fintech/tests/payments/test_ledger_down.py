"""The ledger not answering: 503 with Retry-After, within a bounded time, and nothing
moved twice once it is back (the retry carries the same key, so the same transfer id)."""

import time
from collections.abc import AsyncIterator

import grpc
import pytest_asyncio
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ledger.config import Settings as LedgerSettings
from ledger.rpc.server import start_grpc_server
from payments.config import Settings
from roadmap_shared.testing.factories import settings_for_tests
from roadmap_shared.testing.messaging import eventually
from tests.payments.factories import balance, key, open_wallet


class PrivateLedger:
    """A ledger gRPC server of this test's own (on the shared ledger database), which the
    test stops and starts again on the same port."""

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self._engine: AsyncEngine | None = None
        self._server: grpc.aio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        settings = settings_for_tests(
            LedgerSettings, database_url=self._database_url, grpc_port=self.port
        )
        self._engine = create_async_engine(self._database_url)
        self._server, self.port = await start_grpc_server(settings, self._engine)

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(grace=None)
        if self._engine is not None:
            await self._engine.dispose()
        self._server = self._engine = None


@pytest_asyncio.fixture
async def private_ledger(ledger_database_url: str) -> AsyncIterator[PrivateLedger]:
    ledger = PrivateLedger(ledger_database_url)
    await ledger.start()
    yield ledger
    await ledger.stop()


@pytest_asyncio.fixture
async def ledger_address(private_ledger: PrivateLedger) -> str:
    """The service under test talks to the private ledger, not the shared one."""
    return f"127.0.0.1:{private_ledger.port}"


async def test_the_ledger_down_is_503_with_retry_after_and_the_retry_moves_money_once(
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    private_ledger: PrivateLedger,
    settings: Settings,
) -> None:
    await open_wallet(committing_client, alice_auth)
    await private_ledger.stop()
    one_key = key()

    began = time.monotonic()
    answer = await committing_client.post(
        "/payments/top-ups", json={"amount": 500}, headers=alice_auth | one_key
    )
    took = time.monotonic() - began

    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == str(settings.ledger_retry_after_seconds)
    assert answer.headers["content-type"] == "application/problem+json"
    # Every attempt's deadline and backoff, and no more.
    assert took < settings.ledger_attempts * (settings.ledger_timeout_seconds + 0.5)
    reading = await committing_client.get("/wallet", headers=alice_auth)
    assert reading.status_code == 503

    await private_ledger.start()

    async def ledger_answers() -> bool:
        return (await committing_client.get("/wallet", headers=alice_auth)).status_code == 200

    # What Retry-After asks of a client: wait, then send the same request again.
    await eventually(ledger_answers, what="the ledger answering again")
    retried = await committing_client.post(
        "/payments/top-ups", json={"amount": 500}, headers=alice_auth | one_key
    )
    again = await committing_client.post(
        "/payments/top-ups", json={"amount": 500}, headers=alice_auth | one_key
    )

    # The first request recorded the payment before the ledger failed it: the retry
    # finishes that payment (200, the same one), and the money moved once.
    assert (retried.status_code, again.status_code) == (200, 200)
    assert retried.json()["status"] == "completed"
    assert (await balance(committing_client, alice_auth))["balance"] == 500


async def test_opening_a_wallet_while_the_ledger_is_down_is_503(
    committing_client: AsyncClient, alice_auth: dict[str, str], private_ledger: PrivateLedger
) -> None:
    await private_ledger.stop()
    answer = await committing_client.post("/wallet", headers=alice_auth)
    assert answer.status_code == 503
    assert "Retry-After" in answer.headers
    await private_ledger.start()

    async def opened() -> bool:
        return (await committing_client.post("/wallet", headers=alice_auth)).status_code == 201

    await eventually(opened, what="the wallet opened once the ledger is back")

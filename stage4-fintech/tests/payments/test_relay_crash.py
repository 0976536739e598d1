"""The relay killed between publishing `payment.requested` and marking its row: the row
is published again under the same message id, and the fraud check acts once."""

import asyncio
import os
import signal
import sys
from pathlib import Path

from aio_pika.abc import AbstractQueue, AbstractRobustConnection
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from payments.config import Settings
from payments.ledger_client import LedgerClient
from payments.models import OutboxEvent
from payments.worker import fraud_checking
from roadmap_shared.database import Database
from roadmap_shared.messaging import publish_pending
from roadmap_shared.messaging.relay import open_publisher
from roadmap_shared.testing.messaging import eventually, take_all
from tests.payments.factories import balance, events_of, key, open_wallet, top_up

STAGE = Path(__file__).parents[2]


async def test_a_relay_killed_between_publish_and_mark_moves_the_money_once(
    *,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    bob_auth: dict[str, str],
    settings: Settings,
    database: Database,
    ledger: LedgerClient,
    amqp: AbstractRobustConnection,
    audit_queue: AbstractQueue,
    database_url: str,
    db_engine: AsyncEngine,
) -> None:
    await open_wallet(committing_client, alice_auth)
    bobs_wallet = await open_wallet(committing_client, bob_auth)
    # The top-up's events go out first, so the transfer's `payment.requested` is the row
    # the killed relay publishes.
    await top_up(committing_client, alice_auth, 1_000)
    exchange = await open_publisher(amqp, settings.events_exchange)
    async with database.sessionmaker.begin() as session:
        await publish_pending(session, exchange, OutboxEvent)
    answer = await committing_client.post(
        "/payments/transfers",
        json={"to_wallet_id": bobs_wallet, "amount": 400},
        headers=alice_auth | key(),
    )
    payment_id = answer.json()["id"]

    async with fraud_checking(settings, database, ledger):
        relay = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.payments.relay_killed_after_publish",
            cwd=STAGE,
            env={
                **os.environ,
                "RELAY_DATABASE_URL": database_url,
                "RELAY_RABBITMQ_URL": settings.rabbitmq_url,
                "RELAY_EXCHANGE": settings.events_exchange,
            },
        )
        assert await asyncio.wait_for(relay.wait(), 60) == -signal.SIGKILL
        # Still unmarked: the next relay pass publishes it again.
        async with database.sessionmaker.begin() as session:
            assert await publish_pending(session, exchange, OutboxEvent) >= 1

        async def completed() -> bool:
            names = [name for name, _ in await events_of(db_engine, payment_id)]
            return "payment.completed" in names

        await eventually(completed, what="the transfer completed by the fraud check")
        await asyncio.sleep(0.5)  # time for the second copy to act, were it to

    copies = [
        message
        for message in await take_all(audit_queue.channel, audit_queue.name)
        if message.routing_key == "payment.requested" and b"transfer" in message.body
    ]
    assert len(copies) == 2
    assert len({copy.message_id for copy in copies}) == 1
    names = [name for name, _ in await events_of(db_engine, payment_id)]
    assert names == ["payment.requested", "payment.completed"]
    assert (await balance(committing_client, bob_auth))["balance"] == 400
    assert (await balance(committing_client, alice_auth))["balance"] == 600

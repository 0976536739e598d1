"""Payment events in, one audit record each: whatever the broker redelivers, whatever
the producer gets wrong, and however the consumer dies, the chain holds each event once
and stays valid."""

import asyncio
import json
import logging
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aio_pika import Message
from aio_pika.abc import AbstractRobustConnection
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from audit.config import Settings
from audit.main import create_app
from audit.verify import verify_chain
from roadmap_shared.messaging import Subscription
from roadmap_shared.messaging.relay import open_publisher
from roadmap_shared.testing.messaging import eventually, take_all
from tests.audit.chain import records
from tests.audit.producer import (
    CUSTOMER,
    payment_completed,
    payment_held,
    payment_rejected,
    payment_requested,
    publish,
)

pytestmark = pytest.mark.slow

Sessions = async_sessionmaker[AsyncSession]
STAGE = Path(__file__).parents[2]


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[AsyncClient]:
    """The service, started as its process starts it (the app's lifespan runs the
    consumer), and stopped at the end of the block."""
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def recorded(sessions: Sessions, count: int) -> None:
    async def enough() -> bool:
        return len(await records(sessions)) >= count

    await eventually(enough, what=f"{count} audit records")


async def already_processed(caplog: pytest.LogCaptureFixture) -> bool:
    return any("already processed" in record.getMessage() for record in caplog.records)


def appended(metrics: str, event_type: str) -> float:
    line = f'audit_records_appended_total{{event_type="{event_type}"}} '
    [value] = [row.removeprefix(line) for row in metrics.splitlines() if row.startswith(line)]
    return float(value)


async def test_each_payment_event_is_one_record_in_a_valid_chain(
    settings: Settings,
    amqp: AbstractRobustConnection,
    sessions: Sessions,
    db_engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "audit")
    payment = uuid.uuid4()
    events = [
        ("payment.requested", payment_requested(payment)),
        ("payment.held", payment_held(payment)),
        ("payment.completed", payment_completed(payment)),
        ("payment.rejected", payment_rejected()),
    ]
    async with running(settings) as client:
        assert (await client.get("/readyz")).status_code == 200
        before = appended((await client.get("/metrics")).text, "payment.held")
        # One at a time, so that the chain's order is the order they were published in.
        message_ids = []
        for event_type, payload in events:
            message_ids.append(await publish(amqp, settings.events_exchange, event_type, payload))
            await recorded(sessions, len(message_ids))
        after = appended((await client.get("/metrics")).text, "payment.held")

    chain = await records(sessions)
    assert [(r.message_id, r.event_type) for r in chain] == [
        (message_id, event_type)
        for message_id, (event_type, _) in zip(message_ids, events, strict=True)
    ]
    assert chain[0].payload == events[0][1]
    assert (await verify_chain(db_engine)).valid
    assert after - before == 1
    notices = [r.getMessage() for r in caplog.records if r.name == "audit.notifications"]
    assert notices == [
        f"notify customer {CUSTOMER}: payment {payment} held for review",
        f"notify customer {CUSTOMER}: payment {payment} of 1250 EUR completed",
        f"notify customer {CUSTOMER}: payment {events[3][1]['payment_id']} rejected: "
        "INSUFFICIENT_FUNDS",
    ]


async def test_a_redelivered_event_adds_nothing(
    settings: Settings,
    amqp: AbstractRobustConnection,
    sessions: Sessions,
    db_engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The relay published it twice (it died before marking its outbox row): two copies,
    one message id, one record."""
    caplog.set_level(logging.INFO, "roadmap_shared.messaging")
    payload = payment_completed()
    async with running(settings):
        message_id = await publish(amqp, settings.events_exchange, "payment.completed", payload)
        await publish(
            amqp, settings.events_exchange, "payment.completed", payload, message_id=message_id
        )
        await publish(amqp, settings.events_exchange, "payment.held", payment_held())
        await recorded(sessions, 2)

        await eventually(lambda: already_processed(caplog), what="the second copy recognised")

    chain = await records(sessions)
    assert sorted(r.event_type for r in chain) == ["payment.completed", "payment.held"]
    assert (await verify_chain(db_engine)).valid


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(payment_completed(customer_email="ada@example.com")).encode(),
        json.dumps(payment_completed(amount=12.5)).encode(),
        json.dumps(payment_requested(kind="gift")).encode(),
        b"not json",
    ],
    ids=["personal-data", "float-amount", "unknown-kind", "not-json"],
)
async def test_a_poison_event_is_dead_lettered_and_the_chain_goes_on_without_it(
    *,
    settings: Settings,
    amqp: AbstractRobustConnection,
    subscription: Subscription,
    sessions: Sessions,
    db_engine: AsyncEngine,
    body: bytes,
) -> None:
    async with running(settings):
        publisher = await open_publisher(amqp, settings.events_exchange)
        poison = uuid.uuid4()
        event_type = "payment.requested" if b"gift" in body else "payment.completed"
        await publisher.publish(
            Message(body=body, message_id=str(poison), type=event_type),
            routing_key=event_type,
            mandatory=True,
        )
        valid = await publish(amqp, settings.events_exchange, "payment.held", payment_held())
        await recorded(sessions, 1)

        channel = await amqp.channel()
        dead: list[str | None] = []

        async def dead_lettered() -> bool:
            dead.extend(
                m.message_id for m in await take_all(channel, subscription.dead_letter_queue)
            )
            return bool(dead)

        await eventually(dead_lettered, what="the poison event dead-lettered")

    assert dead == [str(poison)]
    assert [r.message_id for r in await records(sessions)] == [valid]
    verdict = await verify_chain(db_engine)
    assert verdict.valid
    assert verdict.records == 1


@pytest.mark.parametrize("kill_at", ["before_commit", "after_commit"])
async def test_a_consumer_killed_before_its_ack_leaves_one_record_per_event(
    *,
    settings: Settings,
    amqp: AbstractRobustConnection,
    sessions: Sessions,
    db_engine: AsyncEngine,
    database_url: str,
    rabbitmq_url: str,
    subscription: Subscription,
    caplog: pytest.LogCaptureFixture,
    kill_at: str,
) -> None:
    """A real process, SIGKILLed once the handler of its first message has run: before
    the commit (the record rolls back with the connection) or after it (the record stays,
    the ack never leaves). The broker redelivers; the restarted service records each
    event once, in one valid chain."""
    async with running(settings):
        pass  # declares the queue, so that the events wait in it
    payloads = [payment_completed() for _ in range(3)]
    message_ids = [
        await publish(amqp, settings.events_exchange, "payment.completed", payload)
        for payload in payloads
    ]

    consumer = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.audit.consumer_killed_before_ack",
        cwd=STAGE,
        env={
            **os.environ,
            "AUDIT_ENVIRONMENT": "test",
            "AUDIT_DATABASE_URL": database_url,
            "AUDIT_RABBITMQ_URL": rabbitmq_url,
            "AUDIT_EVENTS_EXCHANGE": settings.events_exchange,
            "AUDIT_CONSUMER_NAME": settings.consumer_name,
            "AUDIT_RETRY_DELAYS_SECONDS": json.dumps(settings.retry_delays_seconds),
            # One message at a time: the kill finds no other handler half way.
            "AUDIT_PREFETCH": "1",
            "AUDIT_TEST_KILL_AT": kill_at,
        },
    )
    try:
        assert await asyncio.wait_for(consumer.wait(), 120) == -signal.SIGKILL
    finally:
        if consumer.returncode is None:
            consumer.kill()
            await consumer.wait()
    assert len(await records(sessions)) == (1 if kill_at == "after_commit" else 0)

    caplog.set_level(logging.INFO, "roadmap_shared.messaging")
    async with running(settings):
        await recorded(sessions, 3)
        if kill_at == "after_commit":
            # The copy the broker redelivered is recognised, not refused and retried
            # until it is dead-lettered.
            await eventually(
                lambda: already_processed(caplog), what="the redelivered copy recognised"
            )
        await asyncio.sleep(1)  # a fourth record, or a retry, would show by now

    chain = await records(sessions)
    assert sorted(r.message_id for r in chain) == sorted(message_ids)
    assert await take_all(await amqp.channel(), subscription.dead_letter_queue) == []
    verdict = await verify_chain(db_engine)
    assert verdict.valid, verdict.summary()
    assert verdict.records == 3

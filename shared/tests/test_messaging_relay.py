"""The outbox relay against the real PostgreSQL and RabbitMQ: what it publishes, that a
row is published once however many relays run, and what it does when the broker says no."""

import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path

import pytest
from aio_pika import DeliveryMode
from aio_pika.abc import AbstractQueue, AbstractRobustConnection
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from roadmap_shared.messaging import Consumer, Relay, Subscription, add_event, publish_pending
from roadmap_shared.messaging.models import OutboxEventMixin
from roadmap_shared.messaging.relay import open_publisher
from roadmap_shared.testing.messaging import eventually, take_all
from tests.messaging_consumers import effects, record_effect, skipped_duplicates
from tests.messaging_models import OutboxEvent, ProcessedMessage

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def capture(connection: AbstractRobustConnection, exchange: str) -> AbstractQueue:
    """A queue of the test's own receiving every event published to `exchange`."""
    channel = await connection.channel()
    events = await channel.declare_exchange(exchange, "topic", durable=True)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(events, routing_key="#")
    return queue


async def add_events(sessions: async_sessionmaker[AsyncSession], count: int) -> None:
    async with sessions.begin() as session:
        for number in range(count):
            add_event(session, OutboxEvent, "thing.happened", {"number": number})


async def unpublished(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        query = select(func.count()).where(OutboxEvent.published_at.is_(None))
        return await session.scalar(query) or 0


async def test_an_event_is_published_persistent_under_its_message_id(
    sessions: async_sessionmaker[AsyncSession],
    amqp: AbstractRobustConnection,
    subscription: Subscription,
) -> None:
    queue = await capture(amqp, subscription.exchange)
    async with sessions.begin() as session:
        event = add_event(
            session, OutboxEvent, "thing.happened", {"id": 7}, traceparent=TRACEPARENT
        )
    exchange = await open_publisher(amqp, subscription.exchange)

    async with sessions.begin() as session:
        assert await publish_pending(session, exchange, OutboxEvent) == 1

    [message] = await take_all(queue.channel, queue.name)
    assert message.message_id == str(event.message_id)
    assert message.routing_key == message.type == "thing.happened"
    assert message.delivery_mode == DeliveryMode.PERSISTENT
    assert message.content_type == "application/json"
    assert json.loads(message.body) == {"id": 7}
    assert message.headers["traceparent"] == TRACEPARENT
    assert await unpublished(sessions) == 0


async def test_the_relay_publishes_in_order_what_is_committed_while_it_runs(
    sessions: async_sessionmaker[AsyncSession],
    amqp: AbstractRobustConnection,
    subscription: Subscription,
) -> None:
    queue = await capture(amqp, subscription.exchange)
    stop = asyncio.Event()
    relay = Relay(sessions, OutboxEvent, exchange=subscription.exchange, interval_seconds=0.05)
    running = asyncio.create_task(relay.run(amqp, stop))
    await add_events(sessions, 3)

    async def all_published() -> bool:
        return await unpublished(sessions) == 0

    await eventually(all_published, what="the events published")
    stop.set()
    await asyncio.wait_for(running, 10)
    messages = await take_all(queue.channel, queue.name)
    assert [json.loads(message.body)["number"] for message in messages] == [0, 1, 2]


async def test_an_event_rolled_back_with_its_change_is_never_published(
    sessions: async_sessionmaker[AsyncSession],
    amqp: AbstractRobustConnection,
    subscription: Subscription,
) -> None:
    async with sessions() as session:
        add_event(session, OutboxEvent, "thing.happened", {"id": 1})
        await session.flush()
        await session.rollback()
    exchange = await open_publisher(amqp, subscription.exchange)
    async with sessions.begin() as session:
        assert await publish_pending(session, exchange, OutboxEvent) == 0


@pytest.mark.slow
async def test_concurrent_relays_publish_every_event_exactly_once(
    sessions: async_sessionmaker[AsyncSession],
    amqp: AbstractRobustConnection,
    subscription: Subscription,
) -> None:
    queue = await capture(amqp, subscription.exchange)
    await add_events(sessions, 300)
    exchange = await open_publisher(amqp, subscription.exchange)

    async def relay() -> None:
        while await unpublished(sessions):
            async with sessions.begin() as session:
                await publish_pending(session, exchange, OutboxEvent, batch_size=10)

    await asyncio.gather(*(relay() for _ in range(5)))

    bodies = [json.loads(m.body)["number"] for m in await take_all(queue.channel, queue.name)]
    assert sorted(bodies) == list(range(300))


async def test_a_second_relay_publishes_the_rows_the_first_holds_no_lock_on(
    sessions: async_sessionmaker[AsyncSession],
    amqp: AbstractRobustConnection,
    subscription: Subscription,
) -> None:
    """SKIP LOCKED: a relay stuck on its batch does not stop the others."""
    await capture(amqp, subscription.exchange)
    await add_events(sessions, 4)
    exchange = await open_publisher(amqp, subscription.exchange)
    first_published, release_first = asyncio.Event(), asyncio.Event()

    async def stuck(_: OutboxEventMixin) -> None:
        first_published.set()
        await release_first.wait()

    async def first_relay() -> int:
        async with sessions.begin() as session:
            return await publish_pending(
                session, exchange, OutboxEvent, batch_size=2, after_publish=stuck
            )

    first = asyncio.create_task(first_relay())
    await asyncio.wait_for(first_published.wait(), 10)
    try:
        async with asyncio.timeout(10), sessions.begin() as session:
            second = await publish_pending(session, exchange, OutboxEvent, batch_size=2)
    finally:
        release_first.set()
    assert (second, await first) == (2, 2)


async def test_an_event_the_broker_refuses_stays_in_the_outbox(
    sessions: async_sessionmaker[AsyncSession],
    amqp: AbstractRobustConnection,
    subscription: Subscription,
) -> None:
    """A publish is only done when the broker confirms it: here a full queue that
    rejects new messages makes it answer with a nack, and the row waits."""
    channel = await amqp.channel()
    events = await channel.declare_exchange(subscription.exchange, "topic", durable=True)
    full = await channel.declare_queue(
        exclusive=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"}
    )
    await full.bind(events, routing_key="#")
    await add_events(sessions, 2)
    exchange = await open_publisher(amqp, subscription.exchange)

    async with sessions.begin() as session:
        assert await publish_pending(session, exchange, OutboxEvent) == 0
    assert await unpublished(sessions) == 2


async def test_an_event_no_queue_is_bound_for_stays_in_the_outbox(
    sessions: async_sessionmaker[AsyncSession],
    amqp: AbstractRobustConnection,
    subscription: Subscription,
) -> None:
    """`mandatory`: without it, the broker would drop an unroutable message and confirm."""
    await add_events(sessions, 1)
    exchange = await open_publisher(amqp, subscription.exchange)
    async with sessions.begin() as session:
        assert await publish_pending(session, exchange, OutboxEvent) == 0
    assert await unpublished(sessions) == 1


@pytest.mark.slow
async def test_a_relay_killed_between_publish_and_mark_has_one_effect_downstream(
    *,
    sessions: async_sessionmaker[AsyncSession],
    amqp: AbstractRobustConnection,
    subscription: Subscription,
    messaging_database_url: str,
    rabbitmq_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """At least once, then once: the row outlives the relay and goes out again under the
    same message id; the consumer receives it twice and acts once."""
    queue = await capture(amqp, subscription.exchange)
    consumer = Consumer(subscription, {"thing.happened": record_effect}, sessions, ProcessedMessage)
    await consumer.start(amqp)
    caplog.set_level(logging.INFO, "roadmap_shared.messaging")
    await add_events(sessions, 1)

    # A relay in a process of its own that SIGKILLs itself right after the broker has
    # confirmed the first publish, before its transaction can mark the row.
    relay = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.relay_killed_after_publish",
        cwd=Path(__file__).parent.parent,
        env={
            **os.environ,
            "RELAY_DATABASE_URL": messaging_database_url,
            "RELAY_RABBITMQ_URL": rabbitmq_url,
            "RELAY_EXCHANGE": subscription.exchange,
        },
    )
    assert await asyncio.wait_for(relay.wait(), 60) == -signal.SIGKILL
    assert await unpublished(sessions) == 1

    exchange = await open_publisher(amqp, subscription.exchange)
    async with sessions.begin() as session:
        assert await publish_pending(session, exchange, OutboxEvent) == 1

    async def second_copy_skipped() -> bool:
        return skipped_duplicates(caplog) == 1

    await eventually(second_copy_skipped, what="the second copy recognised")
    copies = await take_all(queue.channel, queue.name)
    assert len(copies) == 2
    assert len({copy.message_id for copy in copies}) == 1
    assert await effects(sessions) == 1
    await consumer.stop()

"""The idempotent consumer against the real PostgreSQL and RabbitMQ: one effect per
message however often it is delivered, retries with backoff, dead letters, reconnects."""

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aio_pika import DeliveryMode, Message, connect_robust
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from roadmap_shared.messaging import Consumer, Event, Handler, Subscription
from roadmap_shared.messaging.consumer import ATTEMPT_HEADER, ERROR_HEADER
from roadmap_shared.messaging.topology import declare_exchange
from roadmap_shared.testing.messaging import TcpProxy, eventually, take_all
from tests.messaging_consumers import effects, record_effect, skipped_duplicates
from tests.messaging_models import ProcessedMessage

pytestmark = pytest.mark.slow


async def publish(
    connection: AbstractRobustConnection,
    subscription: Subscription,
    body: bytes = b'{"n": 1}',
    message_id: uuid.UUID | None = None,
) -> uuid.UUID:
    message_id = message_id or uuid.uuid4()
    channel = await connection.channel()
    exchange = await declare_exchange(channel, subscription.exchange)
    await exchange.publish(
        Message(
            body,
            message_id=str(message_id),
            type="thing.happened",
            delivery_mode=DeliveryMode.PERSISTENT,
        ),
        routing_key="thing.happened",
    )
    await channel.close()
    return message_id


def consumer_of(
    subscription: Subscription, sessions: async_sessionmaker[AsyncSession], handler: Handler
) -> Consumer:
    return Consumer(subscription, {"thing.happened": handler}, sessions, ProcessedMessage)


def dead_lettered(subscription: Subscription) -> float | None:
    return REGISTRY.get_sample_value("messages_dead_lettered_total", {"queue": subscription.name})


async def effects_are(sessions: async_sessionmaker[AsyncSession], expected: int) -> None:
    async def reached() -> bool:
        return await effects(sessions) >= expected

    await eventually(reached, what=f"{expected} effects")


async def test_a_message_delivered_twice_has_one_effect(
    sessions: async_sessionmaker[AsyncSession],
    amqp: AbstractRobustConnection,
    subscription: Subscription,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "roadmap_shared.messaging")
    consumer = consumer_of(subscription, sessions, record_effect)
    await consumer.start(amqp)
    message_id = await publish(amqp, subscription)
    await publish(amqp, subscription, message_id=message_id)

    async def second_skipped() -> bool:
        return skipped_duplicates(caplog) == 1

    await eventually(second_skipped, what="the duplicate recognised")
    await consumer.stop()
    assert await effects(sessions) == 1


async def test_copies_handled_at_the_same_moment_by_two_consumers_have_one_effect(
    sessions: async_sessionmaker[AsyncSession],
    amqp: AbstractRobustConnection,
    subscription: Subscription,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two replicas, each given a copy: the second insert of the message id waits for the
    first transaction, then finds the row and skips the handler."""
    caplog.set_level(logging.INFO, "roadmap_shared.messaging")
    both_inside = asyncio.Barrier(2)

    async def slow(session: AsyncSession, event: Event) -> None:
        await record_effect(session, event)
        # Hold the first transaction open while the second copy arrives; the second
        # never gets here, so the barrier only times out when the guard is missing.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1):
                await both_inside.wait()

    replicas = [consumer_of(subscription, sessions, slow) for _ in range(2)]
    for replica in replicas:
        await replica.start(amqp)
    message_id = await publish(amqp, subscription)
    await publish(amqp, subscription, message_id=message_id)

    async def second_skipped() -> bool:
        return skipped_duplicates(caplog) == 1

    await eventually(second_skipped, what="the second copy recognised")
    for replica in replicas:
        await replica.stop()
    assert await effects(sessions) == 1


async def test_a_consumer_that_dies_before_its_ack_gets_the_message_again_and_acts_once(
    sessions: async_sessionmaker[AsyncSession],
    rabbitmq_url: str,
    amqp: AbstractRobustConnection,
    subscription: Subscription,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The connection is cut while the handler runs: its effect commits, the ack cannot
    be sent, the broker redelivers after the reconnect, and the copy is recognised."""
    caplog.set_level(logging.INFO, "roadmap_shared.messaging")
    async with TcpProxy(rabbitmq_url) as proxy, _connect(proxy.url) as connection:

        async def cut_the_connection_first(session: AsyncSession, event: Event) -> None:
            await record_effect(session, event)
            if event.attempt == 1 and proxy.connections == 1:
                proxy.drop()

        consumer = consumer_of(subscription, sessions, cut_the_connection_first)
        await consumer.start(connection)
        await publish(amqp, subscription)

        async def redelivered_and_skipped() -> bool:
            return skipped_duplicates(caplog) == 1

        await eventually(redelivered_and_skipped, what="the redelivery recognised")
    assert await effects(sessions) == 1


async def test_a_stop_waits_for_the_handler_running_to_commit_and_ack(
    sessions: async_sessionmaker[AsyncSession],
    amqp: AbstractRobustConnection,
    subscription: Subscription,
) -> None:
    """A shutdown in the middle of a handler (its email sent, its record not yet committed)
    would redeliver the message and send the email again: the stop lets it finish."""
    handling, finish = asyncio.Event(), asyncio.Event()

    async def slow_effect(session: AsyncSession, event: Event) -> None:
        handling.set()
        await finish.wait()
        await record_effect(session, event)

    consumer = consumer_of(subscription, sessions, slow_effect)
    await consumer.start(amqp)
    await publish(amqp, subscription)
    await asyncio.wait_for(handling.wait(), 10)

    stopping = asyncio.create_task(consumer.stop())
    await asyncio.sleep(0.2)
    assert not stopping.done()  # waiting for the handler
    finish.set()
    await stopping

    assert await effects(sessions) == 1
    channel = await amqp.channel()
    assert await take_all(channel, subscription.name) == []  # acknowledged, not requeued
    await channel.close()


async def test_a_consumer_that_dies_during_its_handler_loses_no_message(
    sessions: async_sessionmaker[AsyncSession],
    rabbitmq_url: str,
    amqp: AbstractRobustConnection,
    subscription: Subscription,
) -> None:
    """Manual acks: the message is the broker's until the handler's work is committed."""
    async with TcpProxy(rabbitmq_url) as proxy, _connect(proxy.url) as connection:

        async def die_the_first_time(session: AsyncSession, event: Event) -> None:
            if proxy.connections == 1:
                proxy.drop()
                raise ConnectionResetError("the process died here")
            await record_effect(session, event)

        consumer = consumer_of(subscription, sessions, die_the_first_time)
        await consumer.start(connection)
        await publish(amqp, subscription)
        await effects_are(sessions, 1)
    assert await effects(sessions) == 1


async def test_a_handler_that_fails_twice_is_retried_after_each_delay_and_acts_once(
    sessions: async_sessionmaker[AsyncSession],
    amqp: AbstractRobustConnection,
    subscription: Subscription,
) -> None:
    attempts: list[tuple[int, float]] = []

    async def fail_twice(session: AsyncSession, event: Event) -> None:
        attempts.append((event.attempt, time.monotonic()))
        await record_effect(session, event)  # rolled back with each failure
        if event.attempt < 3:
            raise RuntimeError("the mail server is restarting")

    consumer = consumer_of(subscription, sessions, fail_twice)
    await consumer.start(amqp)
    await publish(amqp, subscription)
    await effects_are(sessions, 1)
    await consumer.stop()

    assert [attempt for attempt, _ in attempts] == [1, 2, 3]
    times = [at for _, at in attempts]
    waits = [later - earlier for earlier, later in itertools.pairwise(times)]
    # The delay queues hold each retry at least its delay: backoff, not a hot loop.
    for waited, delay in zip(waits, subscription.retry_delays_seconds, strict=True):
        assert waited >= delay
    assert await effects(sessions) == 1
    channel = await amqp.channel()
    assert await take_all(channel, subscription.dead_letter_queue) == []


async def test_a_message_that_always_fails_is_dead_lettered_after_every_attempt(
    sessions: async_sessionmaker[AsyncSession],
    amqp: AbstractRobustConnection,
    subscription: Subscription,
) -> None:
    attempts: list[int] = []

    async def always_fail(_: AsyncSession, event: Event) -> None:
        attempts.append(event.attempt)
        raise RuntimeError("a bug")

    consumer = consumer_of(subscription, sessions, always_fail)
    await consumer.start(amqp)
    assert dead_lettered(subscription) == 0  # there before the first, for increase()
    message_id = await publish(amqp, subscription)
    channel = await amqp.channel()
    dead = await _dead_letters(channel, subscription)
    await consumer.stop()

    assert attempts == [1, 2, 3] == list(range(1, subscription.max_attempts + 1))
    assert dead.message_id == str(message_id)
    assert dead.headers[ATTEMPT_HEADER] == subscription.max_attempts + 1
    assert "RuntimeError: a bug" in str(dead.headers[ERROR_HEADER])
    assert await effects(sessions) == 0
    assert dead_lettered(subscription) == 1  # once, not once per attempt


async def test_an_unreadable_message_is_dead_lettered_at_once_and_the_next_is_handled(
    sessions: async_sessionmaker[AsyncSession],
    amqp: AbstractRobustConnection,
    subscription: Subscription,
) -> None:
    handled: list[Event] = []

    async def handle(session: AsyncSession, event: Event) -> None:
        handled.append(event)
        await record_effect(session, event)

    consumer = consumer_of(subscription, sessions, handle)
    await consumer.start(amqp)
    poison = await publish(amqp, subscription, body=b"{not json")
    await publish(amqp, subscription)
    channel = await amqp.channel()
    dead = await _dead_letters(channel, subscription)
    await effects_are(sessions, 1)
    await consumer.stop()

    assert dead.message_id == str(poison)
    assert dead.body == b"{not json"
    assert [event.payload for event in handled] == [{"n": 1}]
    assert dead_lettered(subscription) == 1


async def test_the_consumer_reconnects_after_the_broker_drops_it(
    sessions: async_sessionmaker[AsyncSession],
    rabbitmq_url: str,
    amqp: AbstractRobustConnection,
    subscription: Subscription,
) -> None:
    async with TcpProxy(rabbitmq_url) as proxy, _connect(proxy.url) as connection:
        consumer = consumer_of(subscription, sessions, record_effect)
        await consumer.start(connection)
        await publish(amqp, subscription)
        await effects_are(sessions, 1)

        proxy.drop()
        await publish(amqp, subscription)
        await effects_are(sessions, 2)
        assert proxy.connections >= 2


@asynccontextmanager
async def _connect(url: str) -> AsyncIterator[AbstractRobustConnection]:
    # Reconnects quickly, so the tests wait for it briefly; closed however the test ends
    # (a robust connection left open would try to reconnect for ever).
    connection = await connect_robust(url, reconnect_interval=0.2)
    try:
        yield connection
    finally:
        await connection.close()


async def _dead_letters(
    channel: AbstractChannel, subscription: Subscription
) -> AbstractIncomingMessage:
    """The one message that reaches the dead-letter queue (waits for it)."""
    taken: list[AbstractIncomingMessage] = []

    async def arrived() -> bool:
        taken.extend(await take_all(channel, subscription.dead_letter_queue))
        return bool(taken)

    await eventually(arrived, what="a dead letter")
    [dead] = taken
    return dead

"""The fan-out as the worker runs it: the relay publishes the outbox to a real RabbitMQ,
the consumer pushes each post into timelines, a redelivered message has one effect, and
a message that can never succeed is dead-lettered. Each test has queues and an exchange of
its own."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractRobustConnection
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from roadmap_shared.database import Database
from roadmap_shared.messaging import Relay, Subscription
from roadmap_shared.messaging.topology import declare_exchange
from roadmap_shared.testing.messaging import (
    eventually,
    take_all,
    topology_removed_after,
    unique_subscription,
)
from social.config import Settings
from social.models import OutboxEvent, ProcessedMessage
from social.posts.events import POST_CREATED
from social.timelines.fanout import subscription as subscription_of
from social.timelines.store import TimelineStore
from social.worker import fanning_out
from tests.conftest import make_settings
from tests.factories import accounts, follow, post, timeline_ids


@pytest.fixture
def settings(database_url: str, redis_url: str, rabbitmq_url: str) -> Settings:
    names = unique_subscription("social", [])
    # One message at a time: a message published after another is handled after it.
    return make_settings(
        database_url,
        redis_url,
        rabbitmq_url=rabbitmq_url,
        events_exchange=names.exchange,
        consumer_name=names.name,
        prefetch=1,
        relay_interval_seconds=0.05,
    )


@pytest.fixture
def subscription(settings: Settings) -> Subscription:
    return subscription_of(settings)


@pytest_asyncio.fixture
async def amqp(
    settings: Settings, subscription: Subscription
) -> AsyncIterator[AbstractRobustConnection]:
    async with topology_removed_after(settings.rabbitmq_url, subscription) as connection:
        yield connection


@pytest_asyncio.fixture
async def worker(
    settings: Settings, store: TimelineStore, amqp: AbstractRobustConnection
) -> AsyncIterator[None]:
    """The worker's consumer and relay, on the test's exchange and queue."""
    database = Database.from_settings(settings)
    relay = Relay(
        database.sessionmaker,
        OutboxEvent,
        exchange=settings.events_exchange,
        interval_seconds=settings.relay_interval_seconds,
    )
    stop = asyncio.Event()
    try:
        async with fanning_out(settings, database, store):
            relaying = asyncio.create_task(relay.run(amqp, stop))
            yield
            stop.set()
            await asyncio.wait_for(relaying, 10)
    finally:
        await database.dispose()


async def publish(amqp: AbstractRobustConnection, settings: Settings, message: Message) -> None:
    channel = await amqp.channel()
    exchange = await declare_exchange(channel, settings.events_exchange)
    await exchange.publish(message, routing_key=POST_CREATED)
    await channel.close()


def post_created(post_id: object, message_id: uuid.UUID) -> Message:
    return Message(
        body=json.dumps({"post_id": post_id}).encode(),
        message_id=str(message_id),
        type=POST_CREATED,
        content_type="application/json",
        delivery_mode=DeliveryMode.PERSISTENT,
    )


async def processed(committed_session: AsyncSession, message_id: uuid.UUID) -> int:
    committed_session.expire_all()
    count: int = (
        await committed_session.scalar(
            select(func.count())
            .select_from(ProcessedMessage)
            .where(ProcessedMessage.message_id == message_id)
        )
        or 0
    )
    await committed_session.commit()
    return count


@pytest.mark.usefixtures("worker")
async def test_a_post_reaches_its_followers_through_the_broker(
    committing_client: AsyncClient, committed_session: AsyncSession, settings: Settings
) -> None:
    author, fan = await accounts(committed_session, settings, 2)
    await follow(committing_client, fan, author)
    await timeline_ids(committing_client, fan)  # the fan's timeline exists

    post_id = await post(committing_client, author, "through RabbitMQ")

    async def arrived() -> bool:
        return await timeline_ids(committing_client, fan) == [post_id]

    await eventually(arrived, what="the post in the follower's timeline")


@pytest.mark.usefixtures("worker")
async def test_a_message_delivered_twice_is_fanned_out_once(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    settings: Settings,
    amqp: AbstractRobustConnection,
    store: TimelineStore,
) -> None:
    author, fan = await accounts(committed_session, settings, 2)
    await follow(committing_client, fan, author)
    await timeline_ids(committing_client, fan)
    post_id = await post(committing_client, author)

    async def published() -> bool:
        committed_session.expire_all()
        row = await committed_session.scalar(select(OutboxEvent))
        await committed_session.commit()
        return row is not None and row.published_at is not None

    await eventually(published, what="the relay published the post")
    (message_id,) = (await committed_session.scalars(select(OutboxEvent.message_id))).all()
    await committed_session.commit()
    # The relay's copy, then the same message again (a publish whose confirm was lost),
    # then another message: once it is handled, so is the copy before it.
    await publish(amqp, settings, post_created(post_id, message_id))
    marker = uuid.uuid4()
    await publish(amqp, settings, post_created(post_id, marker))

    async def marker_handled() -> bool:
        return await processed(committed_session, marker) == 1

    await eventually(marker_handled, what="the message after the copy handled")
    assert await processed(committed_session, message_id) == 1
    members = await store.redis.zrange(store.key(fan.id), 0, -1)
    assert members == [b"-", f"{post_id}:{author.id}".encode()]


@pytest.mark.usefixtures("worker")
async def test_a_message_without_a_post_id_is_dead_lettered(
    settings: Settings, amqp: AbstractRobustConnection, subscription: Subscription
) -> None:
    await publish(amqp, settings, post_created("not a number", uuid.uuid4()))
    channel = await amqp.channel()
    dead: list[object] = []

    async def dead_lettered() -> bool:
        dead.extend(await take_all(channel, subscription.dead_letter_queue))
        return bool(dead)

    await eventually(dead_lettered, what="the poison message in the dead-letter queue")
    await channel.close()

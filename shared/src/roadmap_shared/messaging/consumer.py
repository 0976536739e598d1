"""An idempotent consumer: manual acks, retries with backoff, dead letters.

For each delivery, in this order:

1. Parse it. A body that is not a JSON object, or a message without a UUID message id,
   will never succeed: it is rejected without requeueing, which dead-letters it at once.
2. In one database transaction, insert `(consumer, message id)` into `processed_messages`
   and run the handler. If the row was already there, this message was handled before
   (the relay published it twice, or our ack was lost): the handler is skipped. The
   insert and the effect commit together or not at all, so a redelivered message has
   exactly one effect, however it came to be redelivered.
3. Only after the commit, acknowledge. A consumer that dies before its ack gets the
   message again (from the broker, to this or another consumer), and step 2 drops it.

A handler that raises is retried: the message is republished to the delay queue of its
attempt (confirmed by the broker) and then acknowledged, so it comes back after the
delay. After the last attempt it goes to the dead-letter queue instead. A handler that
knows the message can never succeed (a field missing) raises `PoisonMessage` to
dead-letter it at once.

Tracing: the message's `traceparent` and `tracestate` headers name the span that
published it; each delivery is handled in a child span of it, so the handler's work (and
its logs) join the trace of the request that caused the event.
"""

import asyncio
import contextlib
import json
import logging
import traceback
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aio_pika import DeliveryMode, Message, connect_robust
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aiormq.exceptions import AMQPError
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from prometheus_client import Counter
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from roadmap_shared import tracing
from roadmap_shared.messaging.models import ProcessedMessageMixin
from roadmap_shared.messaging.topology import Subscription, declare_subscription

logger = logging.getLogger(__name__)

# Headers this module sets on the copies it republishes.
ATTEMPT_HEADER = "x-attempt"
ERROR_HEADER = "x-last-error"
# A dead letter says why, but not at any length: a traceback can be megabytes.
ERROR_TEXT_LIMIT = 2000
# How long a graceful stop waits for the handlers already running: longer than a handler
# takes, shorter than the grace an orchestrator gives before it kills the process (10 s
# for compose and 30 s for Kubernetes, by default).
DRAIN_SECONDS = 8.0


# Alert rules read this name (`DeadLetters` in stage4-fintech's monitoring): rename it and
# they go blind. `queue` is the subscription's queue the message was taken from. What the
# broker dead-letters by itself (a quorum queue's delivery limit, reached by a consumer
# that died again and again before settling) is not counted here: that process never
# decided anything; RabbitMQ's own metrics show it.
MESSAGES_DEAD_LETTERED = Counter(
    "messages_dead_lettered",
    "Messages a consumer gave up on: poison at once, or failed at every attempt",
    ["queue"],
)


class PoisonMessage(Exception):
    """Raised by a handler for a message that no retry can fix: dead-lettered at once."""


@dataclass(frozen=True)
class Event:
    message_id: uuid.UUID
    type: str
    payload: dict[str, Any]
    # 1 on first delivery, 2 on the first retry, ...
    attempt: int
    # W3C trace context of the publish; the handler already runs in a child span of it.
    traceparent: str | None


# Runs inside the transaction that records the message as processed; must not commit.
Handler = Callable[[AsyncSession, Event], Awaitable[None]]


def parse(message: AbstractIncomingMessage) -> Event:
    """The event in `message`, or `PoisonMessage` if it cannot be one."""
    try:
        message_id = uuid.UUID(str(message.message_id))
        payload = json.loads(message.body)
    except (ValueError, UnicodeDecodeError) as unreadable:
        raise PoisonMessage(f"unreadable message: {unreadable}") from unreadable
    if not isinstance(payload, dict):
        raise PoisonMessage("the body is not a JSON object")
    headers = message.headers
    attempt = headers.get(ATTEMPT_HEADER, 1)
    traceparent = headers.get("traceparent")
    return Event(
        message_id=message_id,
        type=message.type or message.routing_key or "",
        payload=payload,
        attempt=attempt if isinstance(attempt, int) else 1,
        traceparent=traceparent if isinstance(traceparent, str) else None,
    )


class Consumer:
    def __init__(
        self,
        subscription: Subscription,
        handlers: Mapping[str, Handler],
        sessions: async_sessionmaker[AsyncSession],
        processed_model: type[ProcessedMessageMixin],
        *,
        tracer_provider: tracing.TracerProvider | None = None,
    ) -> None:
        """`handlers`: one per event type of the subscription. `tracer_provider`: where
        the spans of handled messages go."""
        if missing := set(subscription.event_types) - set(handlers):
            raise ValueError(f"no handler for {sorted(missing)}")
        self.subscription = subscription
        self._handlers = handlers
        self._sessions = sessions
        self._processed = processed_model
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._consumer_tag: str | None = None
        self._tracer = tracing.get_tracer(__name__, tracer_provider)
        # Deliveries being handled now: a graceful stop waits for them (see `stop`).
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def start(self, connection: AbstractConnection) -> None:
        """Declares the topology and starts consuming. On a robust connection, aio-pika
        re-opens the channel, re-declares the queue and re-subscribes after a reconnect."""
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        await channel.set_qos(prefetch_count=self.subscription.prefetch)
        self._queue = await declare_subscription(channel, self.subscription)
        self._channel = channel
        # no_ack=False: the broker keeps each message until we acknowledge it ourselves.
        self._consumer_tag = await self._queue.consume(self.on_message, no_ack=False)
        # At 0 from the start: increase() needs a sample before the first dead letter.
        MESSAGES_DEAD_LETTERED.labels(self.subscription.name)

    @contextlib.asynccontextmanager
    async def running(self, rabbitmq_url: str) -> AsyncIterator[AbstractRobustConnection]:
        """Consumes while the block runs, on a connection of its own, which it yields.
        Robust: after the broker restarts or the network drops, aio-pika reconnects and
        re-declares the queue and the consumer by itself."""
        connection = await connect_robust(rabbitmq_url)
        try:
            await self.start(connection)
            yield connection
            await self.stop()
        finally:
            await connection.close()

    async def stop(self, *, drain_seconds: float = DRAIN_SECONDS) -> None:
        """Stops taking messages, lets the handlers already running finish and acknowledge
        (for up to `drain_seconds`), then closes the channel; what is still unacknowledged
        goes back to the queue. Without the wait, a shutdown could cut a handler between
        its outside effect (an email sent) and its commit, and the redelivery would repeat
        the effect."""
        if self._queue is not None and self._consumer_tag is not None:
            await self._queue.cancel(self._consumer_tag)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), drain_seconds)
        if self._channel is not None:
            await self._channel.close()
        self._queue = self._channel = self._consumer_tag = None

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        self._in_flight += 1
        self._idle.clear()
        try:
            await self._traced(message)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def _traced(self, message: AbstractIncomingMessage) -> None:
        # The publisher's span, from the headers, is the parent of this delivery's.
        publish = tracing.extract(message.headers)
        with self._tracer.start_as_current_span(
            f"{message.type or message.routing_key} process",
            context=publish,
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "rabbitmq",
                "messaging.operation.type": "process",
                "messaging.destination.name": self.subscription.name,
                "messaging.message.id": str(message.message_id),
                "messaging.consumer.group.name": self.subscription.name,
            },
        ) as span:
            await self._process(message, span)

    async def _process(self, message: AbstractIncomingMessage, span: Span) -> None:
        try:
            event = parse(message)
            await self._handle_once(event)
        except PoisonMessage as poison:
            logger.error("dead-lettering message %s: %s", message.message_id, poison)
            span.set_status(Status(StatusCode.ERROR, f"dead-lettered: {poison}"))
            # The queue's dead-letter exchange takes it, with the broker's `x-death` header.
            await self._settle(message.reject(requeue=False))
            MESSAGES_DEAD_LETTERED.labels(self.subscription.name).inc()
            return
        except Exception as failure:  # any failure of a handler is retried
            span.record_exception(failure)
            span.set_status(Status(StatusCode.ERROR, type(failure).__name__))
            await self._retry_or_dead_letter(message, event, failure)
            return
        # After the commit, never before: acked first, a crash here would lose the effect.
        await self._settle(message.ack())

    async def _handle_once(self, event: Event) -> None:
        handler = self._handlers.get(event.type)
        if handler is None:
            raise PoisonMessage(f"no handler for event type {event.type!r}")
        async with self._sessions.begin() as session:
            first_time = await session.scalar(
                insert(self._processed)
                .values(consumer=self.subscription.name, message_id=event.message_id)
                # A concurrent copy (the retry of a message whose ack was lost) waits here
                # for the first to commit, then finds its row and does nothing.
                .on_conflict_do_nothing()
                .returning(self._processed.message_id)
            )
            if first_time is None:
                logger.info("message %s already processed, skipped", event.message_id)
                return
            await handler(session, event)

    async def _retry_or_dead_letter(
        self, message: AbstractIncomingMessage, event: Event, failure: Exception
    ) -> None:
        attempt = event.attempt
        error = "".join(traceback.format_exception_only(failure)).strip()[:ERROR_TEXT_LIMIT]
        headers = {**message.headers, ATTEMPT_HEADER: attempt + 1, ERROR_HEADER: error}
        copy = Message(
            body=message.body,
            headers=headers,
            content_type=message.content_type,
            delivery_mode=DeliveryMode.PERSISTENT,
            message_id=message.message_id,
            type=event.type,
            timestamp=message.timestamp,
        )
        if attempt < self.subscription.max_attempts:
            logger.warning("message %s failed attempt %d: %s", event.message_id, attempt, error)
            target, routing_key = self._default_exchange(), self.subscription.retry_queue(attempt)
        else:
            logger.error("message %s failed %d times, dead-lettered", event.message_id, attempt)
            target, routing_key = await self._dead_letter_exchange(), ""
        try:
            # Confirmed before the ack below: if we die in between, the broker redelivers
            # the original too, and the processed-messages row keeps the effect single.
            await target.publish(copy, routing_key=routing_key, mandatory=True)
        except (AMQPError, OSError, TimeoutError) as unsent:
            # Not republished: leave it to the broker (the channel will redeliver it).
            logger.warning("could not republish %s: %r", event.message_id, unsent)
            await self._settle(message.nack(requeue=True))
            return
        await self._settle(message.ack())
        if attempt >= self.subscription.max_attempts:
            MESSAGES_DEAD_LETTERED.labels(self.subscription.name).inc()

    def _started_channel(self) -> AbstractChannel:
        if self._channel is None:
            raise RuntimeError("the consumer is not started")
        return self._channel

    def _default_exchange(self) -> AbstractExchange:
        return self._started_channel().default_exchange

    async def _dead_letter_exchange(self) -> AbstractExchange:
        # Declared by `start`; `ensure=False` spares a round trip to check it exists.
        return await self._started_channel().get_exchange(
            self.subscription.dead_letter_exchange, ensure=False
        )

    @staticmethod
    async def _settle(settlement: Awaitable[None]) -> None:
        """Acks, nacks and rejects on a channel that just died cannot be sent; the broker
        redelivers what was unsettled, and the processed-messages table handles it."""
        try:
            await settlement
        except (AMQPError, OSError, RuntimeError) as lost:
            logger.warning("could not settle a message, it will be redelivered: %r", lost)

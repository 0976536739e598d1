"""The relay: publishes committed outbox rows to RabbitMQ, then marks them published.

Each row is published with publisher confirms (the broker has the message, persisted on
a quorum of nodes, when `publish` returns), `mandatory` (a message no queue is bound
for comes back as an error instead of vanishing) and persistent delivery, under the
row's `message_id`. Only then is the row marked, in the transaction that locked it.

At least once: a relay that dies after a publish and before its commit leaves the row
unpublished, and the next pass sends it again under the same message id, which the
consumers deduplicate. Several relays may run (one per replica): `FOR UPDATE SKIP LOCKED`
gives each the rows no other holds, so no row is sent by two at once. Order is kept
within one relay's batch; across relays, events may overtake each other by a batch,
so consumers must not depend on a strict order between events.

Tracing: each publish is a span whose parent is the request that wrote the row (its
`traceparent`, kept in the outbox), not whatever the relay was doing, and the message
carries that span's `traceparent` (and `tracestate`, when the span has one) in its
headers to the consumer. The outbox keeps only `traceparent`: a vendor's `tracestate` on
the request does not travel past the outbox.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractConnection, AbstractExchange, FieldValue
from aiormq.exceptions import AMQPError, DeliveryError
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from roadmap_shared import tracing
from roadmap_shared.database import utcnow
from roadmap_shared.messaging.models import OutboxEventMixin
from roadmap_shared.messaging.topology import DEFAULT_EXCHANGE, declare_exchange

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
POLL_INTERVAL_SECONDS = 1.0
# A broker that accepted the connection but does not confirm within this is treated as
# down: the batch's unconfirmed rows stay unpublished and are retried on the next pass.
CONFIRM_TIMEOUT_SECONDS = 10.0

OutboxEvent = TypeVar("OutboxEvent", bound=OutboxEventMixin)
AfterPublish = Callable[[OutboxEventMixin], Awaitable[None]]


def to_message(event: OutboxEventMixin) -> Message:
    """The message for `event`, carrying the current span (the publish) as its parent."""
    headers: dict[str, FieldValue] = {**tracing.inject()}
    return Message(
        body=json.dumps(event.payload, separators=(",", ":")).encode(),
        content_type="application/json",
        delivery_mode=DeliveryMode.PERSISTENT,
        message_id=str(event.message_id),
        # The event type travels in `type` as well as in the routing key: a message that
        # comes back from a delay queue is routed by queue name, and keeps its type.
        type=event.event_type,
        timestamp=event.created_at,
        headers=headers,
    )


async def publish_pending(
    session: AsyncSession,
    exchange: AbstractExchange,
    model: type[OutboxEvent],
    *,
    batch_size: int = BATCH_SIZE,
    after_publish: AfterPublish | None = None,
    tracer: Tracer | None = None,
) -> int:
    """Publishes up to `batch_size` unpublished events, oldest first, and marks them;
    returns how many. The caller commits (`async with sessions.begin()`).

    `tracer`: makes each publish a span (`roadmap_shared.tracing.get_tracer`).

    `after_publish` runs after each confirmed publish, before the row is marked: a seam
    for fault tests (a relay killed at the worst moment).
    """
    query = (
        select(model)
        .where(model.published_at.is_(None))
        .order_by(model.id)
        .limit(batch_size)
        # SKIP LOCKED: a second relay takes the rows after ours instead of waiting for
        # our commit and then publishing the same rows again.
        .with_for_update(skip_locked=True)
    )
    events = (await session.scalars(query)).all()
    tracer = tracer or tracing.get_tracer(__name__)
    published = 0
    for event in events:
        # The row's own trace: an event without one starts a new trace (an empty context).
        request = tracing.extract({"traceparent": event.traceparent or ""})
        with tracer.start_as_current_span(
            f"{event.event_type} publish",
            context=request,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "rabbitmq",
                "messaging.operation.type": "send",
                "messaging.destination.name": exchange.name,
                "messaging.rabbitmq.destination.routing_key": event.event_type,
                "messaging.message.id": str(event.message_id),
            },
        ) as span:
            try:
                await exchange.publish(
                    to_message(event),
                    routing_key=event.event_type,
                    mandatory=True,
                    timeout=CONFIRM_TIMEOUT_SECONDS,
                )
            except DeliveryError as refused:
                # Unroutable (no queue bound for this type yet) or nacked: the row waits,
                # and so do the rows after it, which keeps them in order.
                logger.error("outbox event %s not published: %s", event.message_id, refused)
                span.set_status(Status(StatusCode.ERROR, str(refused)))
                break
        if after_publish is not None:
            await after_publish(event)
        event.published_at = utcnow()
        published += 1
    return published


async def open_publisher(connection: AbstractConnection, exchange: str) -> AbstractExchange:
    """The exchange to publish to, on a channel whose publishes wait for the broker's
    confirm and raise when it refuses the message or cannot route it."""
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    return await declare_exchange(channel, exchange)


class Relay:
    """Runs `publish_pending` in a loop: at once while there is a backlog, otherwise
    every `interval_seconds` (a polling publisher: simple, and a second late at worst)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        model: type[OutboxEventMixin],
        *,
        exchange: str = DEFAULT_EXCHANGE,
        interval_seconds: float = POLL_INTERVAL_SECONDS,
        batch_size: int = BATCH_SIZE,
        after_publish: AfterPublish | None = None,
        after_pass: Callable[[], None] | None = None,
        tracer_provider: tracing.TracerProvider | None = None,
    ) -> None:
        """`after_pass`: called after every pass that reached both the database and the
        broker (a liveness heartbeat). `tracer_provider`: where publish spans go."""
        self._sessions = sessions
        self._model = model
        self._exchange = exchange
        self._interval = interval_seconds
        self._batch_size = batch_size
        self._after_publish = after_publish
        self._after_pass = after_pass
        self._tracer = tracing.get_tracer(__name__, tracer_provider)

    async def run(self, connection: AbstractConnection, stop: asyncio.Event) -> None:
        """Publishes until `stop` is set. Use a robust connection (`connect_robust`): the
        loop survives a broker restart, a failed pass is simply tried again."""
        exchange = await open_publisher(connection, self._exchange)
        while not stop.is_set():
            published = 0
            try:
                async with self._sessions.begin() as session:
                    published = await publish_pending(
                        session,
                        exchange,
                        self._model,
                        batch_size=self._batch_size,
                        after_publish=self._after_publish,
                        tracer=self._tracer,
                    )
            except (SQLAlchemyError, AMQPError, OSError, TimeoutError) as failure:
                logger.warning("outbox relay pass failed, retrying: %r", failure)
            else:
                if self._after_pass is not None:
                    self._after_pass()
            if published < self._batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._interval)

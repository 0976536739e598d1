"""Exchanges and queues, declared by whoever needs them, as often as they start.

One durable topic exchange carries every event of a system (`events` by default); the
routing key is the event type, so a consumer binds to `order.placed` or to `stock.*`.
Each consumer (a `Subscription`) owns, by its name:

- `<name>`: its quorum queue (replicated, durable; the type RabbitMQ recommends for
  anything that must not be lost), bound to the event types it handles;
- `<name>.retry.<delay>ms`: one delay queue per retry delay. A failed message is
  republished there; its TTL expires and the queue dead-letters it back to `<name>`. Why
  not the quorum queue's own redelivery (`x-delivery-limit`)? A rejected message comes
  back at once, so a handler failing because the database restarts would burn its
  attempts in milliseconds; the delay queues give it seconds, then minutes. (The delivery
  limit is still set, as the last resort against a message that crashes the consumer
  process itself before it can republish anything.)
- `<name>.dead-letter`, a fanout exchange, and `<name>.dead`, its queue: where messages
  go that failed every attempt, could not be parsed, or hit the delivery limit, to be
  looked at by a person (and shovelled back once the bug is fixed).

Declaring is idempotent: the same arguments declare nothing new; different ones are an
error (PRECONDITION_FAILED), which is why a delay queue's name carries its delay.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from aio_pika import ExchangeType
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

DEFAULT_EXCHANGE = "events"
# Backoff between attempts: the n-th retry waits RETRY_DELAYS[n - 1] seconds. Four
# retries over about 3 minutes ride out a restart of the database or a mail server.
RETRY_DELAYS_SECONDS = (1.0, 10.0, 30.0, 120.0)
# Unacknowledged messages the broker hands one consumer at a time: enough to overlap a
# few handlers' round trips, small enough that one slow consumer does not hoard a queue.
PREFETCH = 10
# Redeliveries before the broker itself dead-letters a message (quorum queues count a
# delivery whose consumer vanished without acking); see the module docstring.
DELIVERY_LIMIT = 10


@dataclass(frozen=True)
class Subscription:
    name: str
    event_types: Sequence[str]
    exchange: str = DEFAULT_EXCHANGE
    retry_delays_seconds: Sequence[float] = RETRY_DELAYS_SECONDS
    prefetch: int = PREFETCH
    delivery_limit: int = DELIVERY_LIMIT

    @property
    def max_attempts(self) -> int:
        return len(self.retry_delays_seconds) + 1

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.name}.dead-letter"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.name}.dead"

    def retry_queue(self, attempt: int) -> str:
        """The delay queue a message goes to after failing its `attempt`-th time."""
        milliseconds = round(self.retry_delays_seconds[attempt - 1] * 1000)
        return f"{self.name}.retry.{milliseconds}ms"

    def queue_names(self) -> list[str]:
        retries = {self.retry_queue(n) for n in range(1, self.max_attempts)}
        return [self.name, self.dead_letter_queue, *sorted(retries)]


async def declare_exchange(channel: AbstractChannel, name: str) -> AbstractExchange:
    return await channel.declare_exchange(name, ExchangeType.TOPIC, durable=True)


async def declare_subscription(
    channel: AbstractChannel, subscription: Subscription
) -> AbstractQueue:
    """Declares everything `subscription` consumes from and publishes to; returns its queue."""
    events = await declare_exchange(channel, subscription.exchange)
    dead_letters = await channel.declare_exchange(
        subscription.dead_letter_exchange, ExchangeType.FANOUT, durable=True
    )
    dead = await channel.declare_queue(
        subscription.dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"}
    )
    await dead.bind(dead_letters)
    queue = await channel.declare_queue(
        subscription.name,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": subscription.dead_letter_exchange,
            "x-delivery-limit": subscription.delivery_limit,
        },
    )
    for event_type in subscription.event_types:
        await queue.bind(events, routing_key=event_type)
    for attempt in range(1, subscription.max_attempts):
        await channel.declare_queue(
            subscription.retry_queue(attempt),
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                # Every message in one delay queue has the same TTL, so the one at the head
                # always expires first: per-queue TTL has no head-of-line blocking.
                "x-message-ttl": round(subscription.retry_delays_seconds[attempt - 1] * 1000),
                # "" is the default exchange: routes by queue name, back to the main queue.
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": subscription.name,
            },
        )
    return queue


async def delete_subscription(channel: AbstractChannel, subscription: Subscription) -> None:
    """Removes the subscription's queues and dead-letter exchange (tests, decommissioning)."""
    for name in subscription.queue_names():
        await channel.queue_delete(name)
    await channel.exchange_delete(subscription.dead_letter_exchange)

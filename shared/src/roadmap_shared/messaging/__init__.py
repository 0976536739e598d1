"""Events between services over RabbitMQ: an outbox, its relay, and idempotent consumers.

A service that changes its data and must tell others about it writes the event into an
`outbox_events` row in the same transaction (`outbox.add_event`); a relay publishes the
committed rows with publisher confirms (`relay.publish_pending`). A consuming service
records each message id it has handled in `processed_messages`, in the same transaction
as the handler's effect (`consumer.Consumer`), so a message delivered twice has one
effect. Delivery is at least once end to end; the effect is once.

Why aio-pika rather than FastStream: this code is read to learn what a reliable consumer
needs, and aio-pika shows every piece of it (the quorum queue's arguments, the delay
queues, the confirm awaited before the ack, the ack itself) in a few lines each.
FastStream would hide most of them behind decorators and its own retry and
acknowledgement policies, and it would add a second framework (with its own dependency
injection and schema generation) beside FastAPI. Its robust connection (`connect_robust`)
reconnects and re-declares the queues and consumers after the broker drops it.
"""

from roadmap_shared.messaging.consumer import Consumer, Event, Handler, PoisonMessage
from roadmap_shared.messaging.models import OutboxEventMixin, ProcessedMessageMixin
from roadmap_shared.messaging.outbox import add_event
from roadmap_shared.messaging.relay import Relay, publish_pending
from roadmap_shared.messaging.topology import Subscription

__all__ = [
    "Consumer",
    "Event",
    "Handler",
    "OutboxEventMixin",
    "PoisonMessage",
    "ProcessedMessageMixin",
    "Relay",
    "Subscription",
    "add_event",
    "publish_pending",
]

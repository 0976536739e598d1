"""A stand-in for the services that produce events: an outbox table in a database of
its own, written and relayed as the orders and catalog services do."""

from typing import Any

from aio_pika.abc import AbstractRobustConnection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase

from roadmap_shared.database import new_metadata
from roadmap_shared.messaging import OutboxEventMixin, add_event, publish_pending
from roadmap_shared.messaging.relay import open_publisher


class OrdersBase(DeclarativeBase):
    metadata = new_metadata()


class OutboxEvent(OutboxEventMixin, OrdersBase):
    pass


def order_placed(order_id: int, **changes: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "customer_email": f"customer{order_id}@example.com",
        "customer_name": "Ada",
        "currency": "EUR",
        "total_amount": 2940,
        "lines": [{"product_name": "Teapot", "quantity": 1}],
        **changes,
    }


async def write_event(
    sessions: async_sessionmaker[AsyncSession], event_type: str, payload: dict[str, Any]
) -> OutboxEvent:
    """As a checkout would: the event committed in the producer's transaction."""
    async with sessions.begin() as session:
        return add_event(session, OutboxEvent, event_type, payload)


async def relay(
    sessions: async_sessionmaker[AsyncSession],
    connection: AbstractRobustConnection,
    exchange: str,
) -> int:
    """One pass of the producer's relay; returns how many events it published."""
    publisher = await open_publisher(connection, exchange)
    async with sessions.begin() as session:
        return await publish_pending(session, publisher, OutboxEvent)

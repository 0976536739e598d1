"""Events in, emails out: each event has its one email, whatever the broker, the mail
server or the service itself does in between."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage

import pytest
from aio_pika.abc import AbstractRobustConnection
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from notifications.config import Settings
from notifications.main import create_app
from notifications.models import SentEmail
from roadmap_shared.mail import Mailer
from roadmap_shared.messaging import Subscription
from roadmap_shared.smtp import build_mailer
from roadmap_shared.testing.mail_server import Mailbox
from roadmap_shared.testing.messaging import TcpProxy, eventually, take_all
from tests.notifications.conftest import ADMINS
from tests.notifications.producer import OutboxEvent, order_placed, relay, write_event

pytestmark = pytest.mark.slow

Sessions = async_sessionmaker[AsyncSession]


@asynccontextmanager
async def running(settings: Settings, mailer: Mailer | None = None) -> AsyncIterator[AsyncClient]:
    """The service, started as its process starts it (the app's lifespan runs the
    consumer), and stopped at the end of the block."""
    app = create_app(settings, mailer=mailer)
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def emails_received(mailbox: Mailbox, count: int) -> None:
    async def arrived() -> bool:
        return len(mailbox.received) >= count

    await eventually(arrived, what=f"{count} emails")


async def sent_emails(engine: AsyncEngine) -> list[SentEmail]:
    async with async_sessionmaker(engine)() as session:
        return list(await session.scalars(select(SentEmail).order_by(SentEmail.id)))


async def test_an_order_placed_sends_its_customer_one_confirmation(
    settings: Settings,
    amqp: AbstractRobustConnection,
    orders_sessions: Sessions,
    mailbox: Mailbox,
    db_engine: AsyncEngine,
) -> None:
    async with running(settings) as client:
        assert (await client.get("/readyz")).status_code == 200
        event = await write_event(orders_sessions, "order.placed", order_placed(7))
        assert await relay(orders_sessions, amqp, settings.events_exchange) == 1
        await emails_received(mailbox, 1)

    [received] = mailbox.received
    assert received.rcpt_tos == ["customer7@example.com"]
    assert received.message["Subject"] == "Your order #7 is confirmed"
    assert "1 x Teapot" in received.message.get_content()
    assert "29.40 EUR" in received.message.get_content()
    [record] = await sent_emails(db_engine)
    assert (record.event_id, record.kind) == (event.message_id, "order_confirmation")


async def test_an_order_cancelled_sends_one_cancellation_even_when_published_twice(
    *,
    settings: Settings,
    amqp: AbstractRobustConnection,
    orders_sessions: Sessions,
    mailbox: Mailbox,
    db_engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The relay publishes an event again when it died before marking it: the same
    message id, which the consumer recognises."""
    caplog.set_level(logging.INFO, "roadmap_shared.messaging")
    cancelled = {key: value for key, value in order_placed(9).items() if key != "lines"}
    async with running(settings):
        event = await write_event(orders_sessions, "order.cancelled", cancelled)
        await relay(orders_sessions, amqp, settings.events_exchange)
        await emails_received(mailbox, 1)
        async with orders_sessions.begin() as session:
            await session.execute(update(OutboxEvent).values(published_at=None))
        assert await relay(orders_sessions, amqp, settings.events_exchange) == 1

        async def recognised() -> bool:
            return any("already processed" in record.getMessage() for record in caplog.records)

        await eventually(recognised, what="the second delivery recognised")

    [received] = mailbox.received
    assert received.rcpt_tos == ["customer9@example.com"]
    assert received.message["Subject"] == "Your order #9 is cancelled"
    assert received.message["Message-ID"].startswith("<order-9-cancellation@")
    assert "29.40 EUR" in received.message.get_content()
    [record] = await sent_emails(db_engine)
    assert (record.event_id, record.kind) == (event.message_id, "order_cancellation")


async def test_stock_low_alerts_the_admins(
    settings: Settings,
    amqp: AbstractRobustConnection,
    orders_sessions: Sessions,
    mailbox: Mailbox,
) -> None:
    stock = {"variant_id": 3, "sku": "TEA-1", "product_name": "Teapot", "stock_left": 2}
    async with running(settings):
        await write_event(orders_sessions, "stock.low", stock)
        await relay(orders_sessions, amqp, settings.events_exchange)
        await emails_received(mailbox, 1)

    [received] = mailbox.received
    assert received.rcpt_tos == ADMINS
    assert received.message["Subject"] == "Low stock: TEA-1 (2 left)"


async def test_each_fall_to_low_stock_is_an_email_of_its_own(
    settings: Settings,
    amqp: AbstractRobustConnection,
    orders_sessions: Sessions,
    mailbox: Mailbox,
) -> None:
    """Sold down to two, restocked, sold down to two again: two events with the same
    payload, two alerts that mail clients neither thread together nor drop as one."""
    stock = {"variant_id": 4, "sku": "MUG-1", "product_name": "Mug", "stock_left": 2}
    async with running(settings):
        falls = [await write_event(orders_sessions, "stock.low", stock) for _ in range(2)]
        await relay(orders_sessions, amqp, settings.events_exchange)
        await emails_received(mailbox, 2)

    message_ids = [received.message["Message-ID"] for received in mailbox.received]
    assert len(set(message_ids)) == 2
    for fall in falls:
        assert any(str(fall.message_id) in message_id for message_id in message_ids)


async def test_emails_of_checkouts_made_while_the_service_was_down_are_sent_once_it_returns(
    settings: Settings,
    amqp: AbstractRobustConnection,
    orders_sessions: Sessions,
    mailbox: Mailbox,
    db_engine: AsyncEngine,
) -> None:
    async with running(settings):
        pass  # it ran before (its queue exists), and now it is down
    for order_id in range(1, 6):
        await write_event(orders_sessions, "order.placed", order_placed(order_id))
    assert await relay(orders_sessions, amqp, settings.events_exchange) == 5
    assert mailbox.received == []

    async with running(settings):
        await emails_received(mailbox, 5)

    recipients = sorted(r for received in mailbox.received for r in received.rcpt_tos)
    assert recipients == [f"customer{n}@example.com" for n in range(1, 6)]
    assert len(await sent_emails(db_engine)) == 5


class CutsTheConnectionAfterSending:
    """A mailer that sends, then cuts the service's broker connection once: the email
    is out and its record about to commit, but the ack will never reach the broker."""

    def __init__(self, mailer: Mailer, proxy: TcpProxy) -> None:
        self._mailer = mailer
        self._proxy = proxy
        self._cut = False

    async def send(self, message: EmailMessage) -> None:
        await self._mailer.send(message)
        if not self._cut:
            self._cut = True
            self._proxy.drop()


async def test_an_event_redelivered_after_a_crash_before_the_ack_sends_one_email(
    settings: Settings,
    amqp: AbstractRobustConnection,
    orders_sessions: Sessions,
    mailbox: Mailbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "roadmap_shared.messaging")
    async with TcpProxy(settings.rabbitmq_url) as proxy:
        through_proxy = settings.model_copy(update={"rabbitmq_url": proxy.url})
        mailer = CutsTheConnectionAfterSending(build_mailer(settings), proxy)
        async with running(through_proxy, mailer):
            await write_event(orders_sessions, "order.placed", order_placed(8))
            await relay(orders_sessions, amqp, settings.events_exchange)

            async def redelivered_and_recognised() -> bool:
                return any(
                    "already processed" in record.getMessage()
                    for record in caplog.records
                    if record.name.startswith("roadmap_shared.messaging")
                )

            await eventually(redelivered_and_recognised, what="the redelivery recognised")
    assert proxy.connections >= 2
    assert len(mailbox.received) == 1


async def test_a_malformed_event_is_dead_lettered_and_the_next_is_handled(
    settings: Settings,
    amqp: AbstractRobustConnection,
    subscription: Subscription,
    orders_sessions: Sessions,
    mailbox: Mailbox,
) -> None:
    async with running(settings):
        malformed = await write_event(
            orders_sessions, "order.placed", order_placed(9, customer_email="not an address")
        )
        await write_event(orders_sessions, "order.placed", order_placed(10))
        await relay(orders_sessions, amqp, settings.events_exchange)
        await emails_received(mailbox, 1)

        channel = await amqp.channel()
        dead: list[str | None] = []

        async def dead_lettered() -> bool:
            dead.extend(
                m.message_id for m in await take_all(channel, subscription.dead_letter_queue)
            )
            return bool(dead)

        await eventually(dead_lettered, what="the malformed event dead-lettered")

    assert dead == [str(malformed.message_id)]
    [received] = mailbox.received
    assert received.rcpt_tos == ["customer10@example.com"]


async def test_a_mail_server_that_says_try_later_gets_the_email_on_a_retry(
    settings: Settings,
    amqp: AbstractRobustConnection,
    orders_sessions: Sessions,
    mailbox: Mailbox,
    db_engine: AsyncEngine,
) -> None:
    mailbox_refusing = Mailbox(refuse=2)
    mailbox.received = mailbox_refusing.received  # same list, for the helper below
    await _run_with_refusals(settings, amqp, orders_sessions, mailbox_refusing)
    assert mailbox_refusing.refused == 2
    assert len(mailbox_refusing.received) == 1
    assert len(await sent_emails(db_engine)) == 1


async def _run_with_refusals(
    settings: Settings, amqp: AbstractRobustConnection, sessions: Sessions, mailbox: Mailbox
) -> None:
    from roadmap_shared.testing.mail_server import smtp_server  # noqa: PLC0415

    with smtp_server(mailbox) as port:
        refusing = settings.model_copy(update={"smtp_port": port})
        async with running(refusing):
            await write_event(sessions, "order.placed", order_placed(11))
            await relay(sessions, amqp, settings.events_exchange)
            await emails_received(mailbox, 1)

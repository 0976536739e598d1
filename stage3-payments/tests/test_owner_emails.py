"""Emails to the owners, through the outbox: written with the change they report (once,
however often its event arrives), relayed and sent by the real worker, retried when the
mail server says "later". The mail server is a real one (aiosmtpd) on loopback.
"""

from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage

import pytest
import pytest_asyncio
import stripe
from arq import ArqRedis, Worker, create_pool
from arq.connections import RedisSettings
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from billing.config import Settings
from billing.emails.jobs import send_payment_failed
from billing.main import create_app
from billing.models import OutboxMessage
from billing.worker import worker_options
from roadmap_shared import outbox
from roadmap_shared.database import Database
from roadmap_shared.jobs import deserialize_job, serialize_job
from roadmap_shared.testing.mail_server import Mailbox, smtp_server
from roadmap_shared.testing.stripe_double import StripeDouble
from tests.conftest import STRIPE_API_KEY
from tests.factories import email_of, new_tenant, start_payment, stripe_event
from tests.test_refunds import handle_as_the_worker, paid_payment


@pytest.fixture
def mailbox() -> Mailbox:
    # The first DATA is refused with a 451 ("try again later"): the job must retry.
    return Mailbox(refuse=1)


@pytest.fixture
def smtp_port(mailbox: Mailbox) -> Iterator[int]:
    with smtp_server(mailbox) as port:
        yield port


@pytest.fixture
def settings_on_double(settings: Settings, stripe_double: StripeDouble, smtp_port: int) -> Settings:
    return settings.model_copy(
        update={
            "stripe_api_base": stripe_double.base_url,
            "mail_backend": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_security": "none",
            "job_retry_base_seconds": 0.05,
        }
    )


@pytest.fixture
def app(settings_on_double: Settings, redis_client: Redis) -> FastAPI:
    return create_app(settings_on_double)


@pytest.fixture
def stripe_client(stripe_double: StripeDouble) -> stripe.StripeClient:
    return stripe.StripeClient(STRIPE_API_KEY, base_addresses={"api": stripe_double.base_url})


@pytest_asyncio.fixture
async def queue(settings: Settings, redis_client: Redis) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(
        RedisSettings.from_dsn(settings.redis_url),
        default_queue_name=settings.jobs_queue,
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
    )
    yield pool
    await pool.aclose()


async def run_worker(settings: Settings, queue: ArqRedis) -> Worker:
    """Relays the outbox once, then runs the real worker until its queue is empty."""
    await queue.enqueue_job("relay_outbox")
    worker = Worker(
        **worker_options(settings, with_schedule=False),
        burst=True,
        poll_delay=0.02,
        handle_signals=False,
    )
    try:
        await worker.async_run()
    finally:
        await worker.close()
    return worker


async def tasks(session: AsyncSession) -> list[str]:
    await session.execute(text("RESET ROLE"))
    return list((await session.scalars(select(OutboxMessage.task))).all())


async def test_a_success_handled_twice_writes_one_receipt(
    committing_client: AsyncClient,
    stripe_client: stripe.StripeClient,
    settings_on_double: Settings,
    db_session: AsyncSession,
) -> None:
    client = committing_client
    _, payment = await paid_payment(client, stripe_client, settings_on_double)
    intent = await stripe_client.v1.payment_intents.retrieve_async(
        payment["stripe_payment_intent_id"]
    )

    await handle_as_the_worker(
        settings_on_double, stripe_event("payment_intent.succeeded", intent.to_dict())
    )

    assert await tasks(db_session) == ["send_payment_receipt"]


async def test_a_declined_payment_writes_one_failure_notice(
    committing_client: AsyncClient,
    stripe_client: stripe.StripeClient,
    settings_on_double: Settings,
    db_session: AsyncSession,
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    payment = await start_payment(client, tenant)
    with pytest.raises(stripe.CardError):
        await stripe_client.v1.payment_intents.confirm_async(
            payment["stripe_payment_intent_id"], {"payment_method": "pm_card_chargeDeclined"}
        )
    declined = await stripe_client.v1.payment_intents.retrieve_async(
        payment["stripe_payment_intent_id"]
    )
    for _ in range(2):
        await handle_as_the_worker(
            settings_on_double, stripe_event("payment_intent.payment_failed", declined.to_dict())
        )

    assert await tasks(db_session) == ["send_payment_failed"]


async def test_the_worker_sends_the_receipt_to_the_owners_once_after_a_retry(
    *,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    stripe_client: stripe.StripeClient,
    settings_on_double: Settings,
    mailbox: Mailbox,
    queue: ArqRedis,
) -> None:
    client = committing_client
    tenant, payment = await paid_payment(client, stripe_client, settings_on_double)
    owner = await email_of(client, tenant.owner)
    # A dispute alert too, as the dispute handler writes it.
    outbox.add(
        committed_session,
        OutboxMessage,
        "send_dispute_alert",
        organization_id=tenant.id,
        payment_id=payment["id"],
        dispute_id="dp_test_1",
    )
    await committed_session.commit()

    worker = await run_worker(settings_on_double, queue)
    again = await run_worker(settings_on_double, queue)  # nothing left to relay

    assert mailbox.refused == 1
    alert, receipt = sorted(mailbox.received, key=lambda got: str(got.message["Subject"]))
    assert receipt.rcpt_tos == [owner]  # owners only: not the admin, not the member
    assert receipt.message["Subject"] == f"Receipt for payment #{payment['id']}"
    assert "10.00 EUR" in receipt.message.get_content()
    assert receipt.message["Message-ID"].startswith(f"<payment-{payment['id']}-receipt@")
    assert alert.message["Subject"] == "A payment of Acme is disputed"
    assert "dp_test_1" in alert.message.get_content()
    assert worker.jobs_failed == 0
    assert (again.jobs_complete, len(mailbox.received)) == (1, 2)  # the relay alone


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


async def test_a_failure_notice_is_not_sent_once_the_payment_went_through(
    committing_client: AsyncClient,
    stripe_client: stripe.StripeClient,
    settings_on_double: Settings,
) -> None:
    """A declined card, then another that works, before the worker sends the first notice:
    the owners get the receipt, not also "nothing was charged" for a payment that was."""
    tenant, payment = await paid_payment(committing_client, stripe_client, settings_on_double)
    mailer, database = _Recorder(), Database(settings_on_double.database_url)
    ctx = {"settings": settings_on_double, "database": database, "mailer": mailer, "job_try": 1}
    try:
        await send_payment_failed(ctx, organization_id=tenant.id, payment_id=payment["id"])
    finally:
        await database.dispose()
    assert mailer.sent == []

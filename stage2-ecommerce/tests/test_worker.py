"""Background jobs: the outbox, its relay, and the real arq worker against real Redis."""

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import suppress
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

import pytest
import pytest_asyncio
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from roadmap_shared.jobs import deserialize_job, serialize_job
from roadmap_shared.mail import FileMailer, MailDeliveryError, Mailer
from roadmap_shared.outbox import publish_pending
from roadmap_shared.testing.mail_server import Mailbox, smtp_server
from roadmap_shared.testing.redis_down import UNREACHABLE_REDIS_URL
from shop import outbox
from shop.config import Settings
from shop.models import OutboxMessage, Role
from shop.worker import is_worker_alive, worker_options
from tests.conftest import make_settings
from tests.factories import CHECKOUT, auth, make_product, make_user, put_in_cart, variants_of

pytestmark = pytest.mark.slow


class FakeMailbox:
    """A mail server for tests: keeps what it is sent, and can fail the first attempts."""

    def __init__(self, *, failures: int = 0) -> None:
        self.delivered: list[EmailMessage] = []
        self.attempts = 0
        self._failures = failures

    async def send(self, message: EmailMessage) -> None:
        self.attempts += 1
        if self.attempts <= self._failures:
            raise MailDeliveryError("421 Service not available, try again later")
        self.delivered.append(message)


@pytest_asyncio.fixture
async def queue(settings: Settings, redis_client: Redis) -> AsyncIterator[ArqRedis]:
    """A client of the job queue (on the suite's Redis database, emptied first)."""
    pool = await create_pool(
        RedisSettings.from_dsn(settings.redis_url),
        default_queue_name=settings.jobs_queue,
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
    )
    yield pool
    await pool.aclose()


async def run_worker(settings: Settings, mailer: Mailer | None, queue: ArqRedis) -> Worker:
    """Relays the outbox once, then runs the real worker until the queue is empty. Without
    a `mailer`, the worker builds the one `settings` ask for."""
    await queue.enqueue_job("relay_outbox")
    worker = Worker(
        **worker_options(settings, mailer=mailer, with_schedule=False),
        burst=True,
        poll_delay=0.02,
        handle_signals=False,
    )
    try:
        await worker.async_run()
    finally:
        await worker.close()
    return worker


async def checkout(
    client: AsyncClient, session: AsyncSession, settings: Settings, *, stock: int = 10
) -> dict[str, object]:
    user = await make_user(session)
    [variant] = await variants_of(
        session, await make_product(session, name="Teapot", prices_and_stock=[(2450, stock)])
    )
    await put_in_cart(session, user, variant)
    response = await client.post("/orders", json=CHECKOUT, headers=auth(settings, user))
    assert response.status_code == 201
    order: dict[str, object] = {**response.json(), "email": user.email}
    return order


async def test_the_relay_cannot_see_a_message_until_its_transaction_commits(
    db_engine: AsyncEngine, queue: ArqRedis
) -> None:
    async with AsyncSession(db_engine) as writer, AsyncSession(db_engine) as reader:
        outbox.add(writer, "send_order_confirmation", order_id=1)
        await writer.flush()  # written, not committed

        async with reader.begin():
            before_commit = await publish_pending(reader, queue, OutboxMessage)
        await writer.commit()
        async with reader.begin():
            after_commit = await publish_pending(reader, queue, OutboxMessage)
        async with reader.begin():
            again = await publish_pending(reader, queue, OutboxMessage)
            await reader.execute(delete(OutboxMessage))  # this test committed for real

    assert (before_commit, after_commit, again) == (0, 1, 0)
    assert await queue.zcard("shop-test:jobs") == 1


async def test_a_checkout_is_confirmed_by_email_through_the_worker(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    settings: Settings,
    queue: ArqRedis,
) -> None:
    order = await checkout(committing_client, committed_session, settings)
    mailbox = FakeMailbox()

    worker = await run_worker(settings, mailbox, queue)

    [email] = mailbox.delivered
    assert email["To"] == order["email"]
    assert email["Subject"] == f"Your order #{order['id']} is confirmed"
    assert "Teapot" in email.get_content()
    assert "29.40 EUR" in email.get_content()  # 24.50 + 20 % tax
    assert (worker.jobs_complete, worker.jobs_failed) == (2, 0)  # the relay and the email
    published = await committed_session.scalar(select(OutboxMessage.published_at))
    assert published is not None


async def test_a_failed_delivery_is_retried_until_it_succeeds(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    settings: Settings,
    queue: ArqRedis,
) -> None:
    await checkout(committing_client, committed_session, settings)
    mailbox = FakeMailbox(failures=2)

    worker = await run_worker(settings, mailbox, queue)

    assert mailbox.attempts == 3
    assert len(mailbox.delivered) == 1
    assert worker.jobs_retried == 2
    assert worker.jobs_failed == 0


async def test_a_message_relayed_twice_is_sent_once(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    settings: Settings,
    queue: ArqRedis,
) -> None:
    await checkout(committing_client, committed_session, settings)
    mailbox = FakeMailbox()
    await run_worker(settings, mailbox, queue)
    # As if the relay had crashed after enqueueing but before recording it.
    await committed_session.execute(update(OutboxMessage).values(published_at=None))
    await committed_session.commit()

    await run_worker(settings, mailbox, queue)

    assert len(mailbox.delivered) == 1  # the second job had the same id, and was dropped


async def test_admins_are_alerted_when_a_sale_leaves_stock_low(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    settings: Settings,
    queue: ArqRedis,
) -> None:
    first = await make_user(committed_session, role=Role.ADMIN)
    second = await make_user(committed_session, role=Role.ADMIN)
    await checkout(committing_client, committed_session, settings, stock=4)  # 4 -> 3 left
    mailbox = FakeMailbox()

    await run_worker(settings, mailbox, queue)

    [alert] = [m for m in mailbox.delivered if m["Subject"].startswith("Low stock")]
    assert alert["To"] == f"{first.email}, {second.email}"
    assert "(3 left)" in alert["Subject"]


async def test_the_file_mailer_writes_one_readable_eml_per_message(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@shop.example", "b@x.example", "Hi"
    message["Message-ID"] = "<order-1-confirmation@shop.example>"
    message.set_content("Hello")

    await mailer.send(message)
    await mailer.send(message)  # a retried job

    [path] = tmp_path.iterdir()  # noqa: ASYNC240  (a test reading a temporary file)
    parsed = message_from_bytes(path.read_bytes())
    assert parsed["Subject"] == "Hi"
    assert path.name == "order-1-confirmation@shop.example.eml"


# --- through a real SMTP server -------------------------------------------------------------


def smtp_settings(tmp: Path, base: Settings, port: int) -> Settings:
    return make_settings(
        tmp,
        database_url=base.database_url,
        redis_url=base.redis_url,
        mail_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
    )


async def test_the_worker_sends_the_confirmation_through_smtp(
    *,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    settings: Settings,
    queue: ArqRedis,
    tmp_path: Path,
) -> None:
    order = await checkout(committing_client, committed_session, settings)
    mailbox = Mailbox()

    with smtp_server(mailbox) as port:
        worker = await run_worker(smtp_settings(tmp_path, settings, port), None, queue)

    [received] = mailbox.received
    assert received.rcpt_tos == [order["email"]]
    assert received.message["Subject"] == f"Your order #{order['id']} is confirmed"
    assert "29.40 EUR" in received.message.get_content()
    assert (worker.jobs_complete, worker.jobs_failed) == (2, 0)


async def test_a_temporary_smtp_refusal_is_retried(
    *,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    settings: Settings,
    queue: ArqRedis,
    tmp_path: Path,
) -> None:
    await checkout(committing_client, committed_session, settings)
    mailbox = Mailbox(refuse=1, refusal="451 4.3.0 Mailbox busy, try again later")

    with smtp_server(mailbox) as port:
        worker = await run_worker(smtp_settings(tmp_path, settings, port), None, queue)

    assert mailbox.refused == 1
    assert len(mailbox.received) == 1  # the second attempt went through
    assert (worker.jobs_retried, worker.jobs_failed) == (1, 0)


async def test_a_permanent_smtp_refusal_fails_the_job_without_retrying(
    *,
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    settings: Settings,
    queue: ArqRedis,
    tmp_path: Path,
) -> None:
    await checkout(committing_client, committed_session, settings)
    mailbox = Mailbox(refuse=settings.job_max_tries, refusal="554 5.7.1 Message refused")

    with smtp_server(mailbox) as port:
        worker = await run_worker(smtp_settings(tmp_path, settings, port), None, queue)

    assert mailbox.refused == 1
    assert mailbox.received == []
    assert (worker.jobs_retried, worker.jobs_failed) == (0, 1)


# --- the health check ---------------------------------------------------------------------


async def health_check_exit_code(settings: Settings, directory: Path) -> int:
    """Runs `python -m shop.worker --check` as a container would, and returns its exit code."""
    # Only these two settings matter; none of the caller's other SHOP_* variables.
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("SHOP_")
    }
    environment |= {"SHOP_REDIS_URL": settings.redis_url, "SHOP_JOBS_QUEUE": settings.jobs_queue}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "shop.worker", "--check"),
        env=environment,
        cwd=directory,  # away from any developer's `.env`
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await process.wait()


async def until_alive(settings: Settings) -> None:
    """Waits for a starting worker's first report (a bound on waiting, not on speed)."""
    for _ in range(500):
        if await is_worker_alive(settings):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the worker never reported itself alive")


async def test_the_health_check_tells_a_running_worker_from_none(
    settings: Settings, redis_client: Redis, tmp_path: Path
) -> None:
    no_worker_queue = make_settings(tmp_path, redis_url=settings.redis_url, jobs_queue="idle")
    before = await is_worker_alive(settings)
    worker = Worker(
        **worker_options(settings, mailer=FakeMailbox(), with_schedule=False),
        poll_delay=0.02,
        handle_signals=False,
    )
    running = asyncio.create_task(worker.async_run())
    try:
        await until_alive(settings)
        # The command a container runs, against the worker's queue and a queue nobody serves.
        served, not_served = await asyncio.gather(
            health_check_exit_code(settings, tmp_path),
            health_check_exit_code(no_worker_queue, tmp_path),
        )
    finally:
        await worker.close()
        with suppress(asyncio.CancelledError):
            await running

    assert before is False
    assert (served, not_served) == (0, 1)
    assert await is_worker_alive(settings) is False  # a clean stop removes its key


async def test_the_health_check_fails_when_redis_cannot_be_reached(tmp_path: Path) -> None:
    unreachable = make_settings(tmp_path, redis_url=UNREACHABLE_REDIS_URL)

    assert await is_worker_alive(unreachable) is False

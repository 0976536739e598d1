"""The outbox: emails are queued with the change that causes them and delivered after the
commit, each once, even when some fail."""

import asyncio

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.config import Settings
from auth_service.emails.sender import EmailMessage, LoggingEmailSender
from auth_service.emails.service import EmailOutbox, deliver_pending, queue_email
from auth_service.main import create_app
from auth_service.models import OutboxEmail
from tests.factories import RecordingSender, emails_to, register, unique_email


def message(to: str) -> EmailMessage:
    return EmailMessage(to=to, subject="Hello", body="Hi there.")


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def app(settings: Settings, sender: RecordingSender) -> FastAPI:
    return create_app(settings, email_sender=sender)


@pytest.mark.slow
async def test_a_queued_email_is_sent_after_the_request_commits(
    app: FastAPI,
    committing_client: AsyncClient,
    db_session: AsyncSession,
    sender: RecordingSender,
) -> None:
    email = unique_email()
    assert (await register(committing_client, email)).status_code == 201
    await app.state.email_outbox.wait_for_deliveries()
    [sent] = sender.sent
    assert sent.to == email
    assert sent.subject == "Confirm your email address"
    [row] = await emails_to(db_session, email)
    assert row.sent_at is not None


class HeldSender(RecordingSender):
    """A mail server that answers only once released."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def send(self, message: EmailMessage) -> None:
        await self.release.wait()
        await super().send(message)


@pytest.mark.slow
async def test_the_response_does_not_wait_for_the_mail_server(
    app: FastAPI, committing_client: AsyncClient
) -> None:
    app.state.email_outbox = outbox = EmailOutbox(app.state.database, held := HeldSender())
    email = unique_email()

    async with asyncio.timeout(30):  # a response that waited for the mail server hangs here
        response = await register(committing_client, email)
    assert (response.status_code, held.sent) == (201, [])

    held.release.set()
    await outbox.wait_for_deliveries()
    assert [message.to for message in held.sent] == [email]


@pytest.mark.slow
async def test_shutting_down_waits_for_the_deliveries_under_way(
    settings: Settings, committed_session: AsyncSession
) -> None:
    app = create_app(settings, email_sender=(held := HeldSender()))
    email = unique_email()
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app)
        async with AsyncClient(transport=transport, base_url="http://test") as http:
            assert (await register(http, email)).status_code == 201
        # The mail server answers a moment after the shutdown has begun.
        release_soon = asyncio.get_running_loop().call_later(0.2, held.release.set)

    release_soon.cancel()
    assert [message.to for message in held.sent] == [email]


async def test_a_sent_email_leaves_no_copy_of_its_link_in_the_outbox(
    db_session: AsyncSession,
) -> None:
    # The link's token is stored hashed; the outbox must not keep it in plain text.
    queue_email(
        db_session,
        EmailMessage(to="ada@example.com", subject="Reset", body="#token=secret-token"),
    )
    await deliver_pending(db_session, RecordingSender())
    [row] = await emails_to(db_session, "ada@example.com")
    assert row.sent_at is not None
    assert "secret-token" not in row.body


async def test_queued_emails_are_sent_once_and_marked_sent(db_session: AsyncSession) -> None:
    queue_email(db_session, message("a@example.com"))
    queue_email(db_session, message("b@example.com"))
    sender = RecordingSender()

    assert await deliver_pending(db_session, sender) == 2
    assert await deliver_pending(db_session, sender) == 0

    assert [m.to for m in sender.sent] == ["a@example.com", "b@example.com"]
    sent_at = await db_session.scalars(select(OutboxEmail.sent_at))
    assert all(value is not None for value in sent_at)


async def test_an_email_that_fails_stays_queued_and_the_others_go(
    db_session: AsyncSession,
) -> None:
    queue_email(db_session, message("bounces@example.com"))
    queue_email(db_session, message("fine@example.com"))
    flaky = RecordingSender(failing_address="bounces@example.com")

    assert await deliver_pending(db_session, flaky) == 1

    # A later run (the mail server is back) delivers what is left.
    recovered = RecordingSender()
    assert await deliver_pending(db_session, recovered) == 1
    assert [m.to for m in recovered.sent] == ["bounces@example.com"]


async def test_an_email_of_a_failed_request_is_never_queued(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    # The password is refused after nothing was written: no account, no email.
    email = unique_email()
    response = await register(client, email, password="too short")
    assert response.status_code == 422
    assert await emails_to(db_session, email) == []


async def test_the_development_sender_writes_the_email_to_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("INFO", logger="auth_service.emails.sender"):
        await LoggingEmailSender("noreply@example.com").send(message("dev@example.com"))
    assert "dev@example.com" in caplog.text
    assert "Hi there." in caplog.text

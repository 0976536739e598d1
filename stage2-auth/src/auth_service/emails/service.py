"""The transactional outbox: emails are queued in the request's transaction and delivered
after it commits.

Queueing is a row in `outbox_emails`, written with the change it announces. Once the
transaction has committed (`roadmap_shared.after_commit`), a delivery starts in the
background, in its own transaction: it sends what is unsent, marks it sent and erases its
body (the link in it). The response does not wait for the mail server: it is not slower,
and a password-reset answer takes as long whether or not the address has an account.

If the process dies in between, the email stays unsent and the next delivery run picks it
up. An email can still go out twice (sent, then the process dies before marking it), never
zero times: "at least once", as with any outbox.
"""

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.emails import repository
from auth_service.emails.sender import EmailMessage, EmailSender
from auth_service.models import OutboxEmail
from roadmap_shared.after_commit import after_commit
from roadmap_shared.database import Database, utcnow

logger = logging.getLogger(__name__)

# Delivery holds row locks while it talks to the mail server; small batches keep that short.
DELIVERY_BATCH_SIZE = 50


def queue_email(session: AsyncSession, message: EmailMessage) -> None:
    session.add(OutboxEmail(to_address=message.to, subject=message.subject, body=message.body))


async def deliver_pending(session: AsyncSession, sender: EmailSender) -> int:
    """Sends unsent emails (one batch) and marks them sent; returns how many were sent."""
    sent = 0
    for email in await repository.lock_unsent(session, DELIVERY_BATCH_SIZE):
        message = EmailMessage(to=email.to_address, subject=email.subject, body=email.body)
        try:
            await sender.send(message)
        except Exception:  # one failing address must not hold up the others
            logger.exception("could not send email %s; it stays in the outbox", email.id)
            continue
        email.sent_at = utcnow()
        # The body holds a live single-use link. Kept, it would make this table a plain-text
        # copy of the tokens that `email_tokens` stores only as hashes; once sent, it goes.
        email.body = ""
        sent += 1
    return sent


class EmailOutbox:
    """What services send email through: `outbox.send(session, message)`."""

    def __init__(self, database: Database, sender: EmailSender) -> None:
        self._database = database
        self._sender = sender
        # Held until they finish: the event loop keeps only weak references to tasks.
        self._deliveries: set[asyncio.Task[None]] = set()

    def send(self, session: AsyncSession, message: EmailMessage) -> None:
        """Queues `message` in `session`'s transaction; it goes out once that commits."""
        queue_email(session, message)
        after_commit(session, self._start_delivery)  # once, however many were queued

    async def _start_delivery(self) -> None:
        task = asyncio.create_task(self._deliver())
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver(self) -> None:
        try:
            async with self._database.sessionmaker() as session, session.begin():
                await deliver_pending(session, self._sender)
        except Exception:  # nobody awaits this task: log, and leave the emails queued
            logger.exception("email delivery failed; the emails stay in the outbox")

    async def wait_for_deliveries(self) -> None:
        """Returns once the deliveries started so far have finished (shutdown, tests)."""
        await asyncio.gather(*self._deliveries)

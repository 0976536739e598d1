"""The transactional outbox: emails are queued in the request's transaction and delivered
after it commits.

Queueing is a row in `outbox_emails`, written with the change it announces. Delivery runs
after the response (a background task), in its own transaction: it sends what is unsent,
marks it sent and erases its body (the link in it). If the process dies in between, the
email stays unsent and the next delivery run picks it up. An email can still go out twice
(sent, then the process dies before marking it), never zero times: "at least once", as
with any outbox.
"""

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.emails import repository
from auth_service.emails.sender import EmailMessage, EmailSender
from auth_service.models import OutboxEmail
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


async def deliver_outbox(database: Database, sender: EmailSender) -> None:
    """A background task, run after the response: the request's transaction has committed."""
    async with database.sessionmaker() as session, session.begin():
        await deliver_pending(session, sender)

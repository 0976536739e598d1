"""The email jobs the worker runs, one per outbox task. Each takes arq's `ctx` first: the
worker puts the settings, the database and the mailer there at startup (billing.worker).

A job may run more than once (a retry after a crash, a relay resending); its message has
a fixed Message-ID, so the repeat is the same email. Like the webhook handlers, a job
reads tenant data only inside its organisation's scope (row-level security).
"""

from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from typing import Any

from arq import Retry
from sqlalchemy.ext.asyncio import AsyncSession

from billing.config import Settings
from billing.emails import messages
from billing.models import Organization, OutboxMessage, PaymentStatus
from billing.organizations import repository as organizations
from billing.payments import repository as payments
from billing.tenancy import act_for_organization
from roadmap_shared import outbox
from roadmap_shared.database import Database
from roadmap_shared.mail import MailDeliveryError, Mailer

Context = dict[str, Any]
# What a job builds its message from, in its organisation's scope; None: nothing to send.
Compose = Callable[[AsyncSession, Organization, list[str]], Awaitable[EmailMessage | None]]


def retry_delay(settings: Settings, job_try: int) -> float:
    """Exponential backoff: base, 2 x base, 4 x base, ... a struggling mail server is
    given more room with each attempt instead of being hammered."""
    return float(settings.job_retry_base_seconds * 2 ** (job_try - 1))


async def _deliver(ctx: Context, message: EmailMessage) -> None:
    mailer: Mailer = ctx["mailer"]
    try:
        await mailer.send(message)
    except MailDeliveryError as exc:
        # arq runs the job again after the delay, up to the worker's `max_tries`.
        raise Retry(defer=retry_delay(ctx["settings"], ctx["job_try"])) from exc


async def _to_owners(ctx: Context, organization_id: int, build: Compose) -> str:
    database: Database = ctx["database"]
    async with database.sessionmaker() as session, session.begin():
        await act_for_organization(session, organization_id)
        organization = await organizations.get(session, organization_id)
        owners = await organizations.owner_emails(session, organization_id)
        message = await build(session, organization, owners) if organization else None
    if message is None or not owners:
        return "skipped: nothing to tell (no such payment or organisation, paid since, no owner)"
    await _deliver(ctx, message)
    return f"sent to {len(owners)} owner(s)"


async def send_payment_receipt(ctx: Context, organization_id: int, payment_id: int) -> str:
    sender = ctx["settings"].mail_from

    async def build(
        session: AsyncSession, organization: Organization, owners: list[str]
    ) -> EmailMessage | None:
        payment = await payments.get(session, organization_id, payment_id)
        if payment is None:
            return None
        return messages.payment_receipt(payment, organization, owners=owners, sender=sender)

    return await _to_owners(ctx, organization_id, build)


async def send_payment_failed(ctx: Context, organization_id: int, payment_id: int) -> str:
    sender = ctx["settings"].mail_from

    async def build(
        session: AsyncSession, organization: Organization, owners: list[str]
    ) -> EmailMessage | None:
        payment = await payments.get(session, organization_id, payment_id)
        # Paid with another card before this job ran: the receipt says so, and a notice
        # that "nothing was charged" would be false.
        if payment is None or payment.status is PaymentStatus.SUCCEEDED:
            return None
        return messages.payment_failed(payment, organization, owners=owners, sender=sender)

    return await _to_owners(ctx, organization_id, build)


async def send_dispute_alert(
    ctx: Context, organization_id: int, payment_id: int, dispute_id: str
) -> str:
    sender = ctx["settings"].mail_from

    async def build(
        session: AsyncSession, organization: Organization, owners: list[str]
    ) -> EmailMessage:
        payment = await payments.get(session, organization_id, payment_id)
        return messages.dispute_opened(
            payment, organization, dispute_id=dispute_id, owners=owners, sender=sender
        )

    return await _to_owners(ctx, organization_id, build)


async def relay_outbox(ctx: Context) -> int:
    database: Database = ctx["database"]
    async with database.sessionmaker() as session, session.begin():
        return await outbox.publish_pending(session, ctx["redis"], OutboxMessage)

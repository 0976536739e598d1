"""The jobs the worker runs. Each takes arq's `ctx` first: the worker puts the settings,
the database and the mailer there at startup (see shop.worker).

Jobs may run more than once (a retry after a crash, a relay resending), so each is
written to be harmless when repeated: an email has a fixed Message-ID, a purge deletes
what is already gone.
"""

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from arq import Retry

from roadmap_shared import outbox
from roadmap_shared.database import Database
from roadmap_shared.mail import MailDeliveryError, Mailer
from shop.accounts import repository as users
from shop.catalog import repository as catalog
from shop.config import Settings
from shop.jobs import emails
from shop.models import OutboxMessage
from shop.orders import idempotency
from shop.orders import repository as orders

Context = dict[str, Any]


def retry_delay(settings: Settings, job_try: int) -> float:
    """Exponential backoff: base, 2 x base, 4 x base, ... so a struggling mail server is
    given more room with each attempt instead of being hammered."""
    return float(settings.job_retry_base_seconds * 2 ** (job_try - 1))


async def _deliver(ctx: Context, message: EmailMessage) -> None:
    mailer: Mailer = ctx["mailer"]
    try:
        await mailer.send(message)
    except MailDeliveryError as exc:
        # arq runs the job again after the delay, up to the worker's `max_tries`.
        raise Retry(defer=retry_delay(ctx["settings"], ctx["job_try"])) from exc


async def send_order_confirmation(ctx: Context, order_id: int) -> str:
    settings: Settings = ctx["settings"]
    database: Database = ctx["database"]
    async with database.sessionmaker() as session:
        order = await orders.get(session, order_id)
        customer = await users.get(session, order.user_id) if order else None
    if order is None or customer is None:
        return "skipped: the order or its customer no longer exists"
    await _deliver(ctx, emails.order_confirmation(order, customer, sender=settings.mail_from))
    return f"sent to {customer.email}"


async def send_low_stock_alert(ctx: Context, variant_id: int, stock_left: int) -> str:
    settings: Settings = ctx["settings"]
    database: Database = ctx["database"]
    async with database.sessionmaker() as session:
        variant = await catalog.get_variant(session, variant_id)
        if variant is None:
            return "skipped: the variant no longer exists"
        product = await catalog.get_product(session, variant.product_id, include_archived=True)
        admins = list(await users.admin_emails(session))
    if product is None or not admins:
        return "skipped: no such product, or no admin to tell"
    message = emails.low_stock_alert(
        variant,
        product_name=product.name,
        stock_left=stock_left,
        admins=admins,
        sender=settings.mail_from,
    )
    await _deliver(ctx, message)
    return f"sent to {len(admins)} admin(s)"


async def relay_outbox(ctx: Context) -> int:
    database: Database = ctx["database"]
    async with database.sessionmaker() as session, session.begin():
        return await outbox.publish_pending(session, ctx["redis"], OutboxMessage)


async def purge_idempotency_keys(ctx: Context) -> int:
    settings: Settings = ctx["settings"]
    database: Database = ctx["database"]
    async with database.sessionmaker() as session, session.begin():
        return await idempotency.delete_expired(
            session, older_than=timedelta(hours=settings.idempotency_key_hours)
        )

"""What each event does: send one email, and record it, in the consumer's transaction.

The email is sent before that transaction commits. If the commit then fails, or the
process dies between the two, the event is handled again and the email sent again: at
least once, never lost. The window is one database round trip, and the duplicate carries
the same Message-ID, which mail servers and clients use to recognise it. Sending after
the commit would close that window by opening a worse one: an email lost for good.
"""

from collections.abc import Mapping
from email.message import EmailMessage
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import emails
from notifications.config import Settings
from notifications.models import SentEmail
from roadmap_shared import tracing
from roadmap_shared.mail import Mailer, MailRejected
from roadmap_shared.messaging import Event, Handler, PoisonMessage

ORDER_PLACED = "order.placed"
ORDER_CANCELLED = "order.cancelled"
STOCK_LOW = "stock.low"


Payload = TypeVar("Payload", bound=BaseModel)


def parse(model: type[Payload], event: Event) -> Payload:
    try:
        return model.model_validate(event.payload)
    except ValidationError as invalid:
        # The producer sent something this version cannot read: no retry will change it.
        raise PoisonMessage(f"invalid {event.type}: {invalid}") from invalid


class Notifier:
    EVENT_TYPES = (ORDER_PLACED, ORDER_CANCELLED, STOCK_LOW)

    def __init__(
        self, settings: Settings, mailer: Mailer, *, tracer: tracing.Tracer | None = None
    ) -> None:
        self._settings = settings
        self._mailer = mailer
        self._tracer = tracer or tracing.get_tracer(__name__)

    def handlers(self) -> Mapping[str, Handler]:
        return {
            ORDER_PLACED: self.order_placed,
            ORDER_CANCELLED: self.order_cancelled,
            STOCK_LOW: self.stock_low,
        }

    async def order_placed(self, session: AsyncSession, event: Event) -> None:
        order = parse(emails.OrderPlaced, event)
        message = emails.order_confirmation(order, sender=self._settings.mail_from)
        await self._send(session, event, "order_confirmation", message)

    async def order_cancelled(self, session: AsyncSession, event: Event) -> None:
        order = parse(emails.OrderCancelled, event)
        message = emails.order_cancellation(order, sender=self._settings.mail_from)
        await self._send(session, event, "order_cancellation", message)

    async def stock_low(self, session: AsyncSession, event: Event) -> None:
        stock = parse(emails.StockLow, event)
        message = emails.low_stock_alert(
            stock,
            event_id=event.message_id,
            admins=self._settings.admin_emails,
            sender=self._settings.mail_from,
        )
        await self._send(session, event, "low_stock_alert", message)

    async def _send(
        self, session: AsyncSession, event: Event, kind: str, message: EmailMessage
    ) -> None:
        try:
            # The slow part of handling an event, and the one that fails: its own span.
            with self._tracer.start_as_current_span("email send", attributes={"email.kind": kind}):
                await self._mailer.send(message)
        except MailRejected as rejected:  # a 5xx: the address or the message is refused
            raise PoisonMessage(f"mail refused: {rejected}") from rejected
        session.add(
            SentEmail(
                event_id=event.message_id,
                kind=kind,
                recipients=str(message["To"]),
                subject=str(message["Subject"]),
                email_message_id=str(message["Message-ID"]),
            )
        )

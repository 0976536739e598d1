"""How an email leaves the service: a small interface with one implementation per place.

Development uses `LoggingEmailSender`, which writes each email to the log, so the links in
it can be copied from the terminal. Production would add an implementation speaking SMTP
or a provider's API; nothing else changes. Tests read the outbox table instead.
"""

import logging
from dataclasses import dataclass
from typing import Protocol

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    body: str


class EmailSender(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Delivers the message, or raises; it is then retried by a later delivery run."""


class LoggingEmailSender:
    """Development only: the log then holds working password reset links."""

    def __init__(self, from_address: str) -> None:
        self._from_address = from_address

    async def send(self, message: EmailMessage) -> None:
        logger.info(
            "email to %s: %s\n\n%s",
            message.to,
            message.subject,
            message.body,
            extra={"email_from": self._from_address, "email_to": message.to},
        )

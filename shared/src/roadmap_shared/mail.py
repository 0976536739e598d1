"""Sending email, behind a small interface so a worker does not care how.

`FileMailer` writes each message as an `.eml` file (RFC 5322, what an SMTP server would
receive) into a directory: open them with any mail client. It is the development and
demo mailbox. `SmtpMailer` (roadmap_shared.smtp) hands messages to a real mail server.
A stage's `<PREFIX>_MAIL_BACKEND` picks one (`build_mailer`).
"""

import asyncio
import os
import re
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol


class MailDeliveryError(Exception):
    """A failure that may pass (server unreachable, "try again later"): worth a retry."""


class MailRejected(Exception):
    """A failure that will not pass by itself (a 5xx reply: unknown mailbox, bad
    credentials, a message refused as spam): retrying would only repeat it."""


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Delivers `message`, or raises `MailDeliveryError` (retry) or `MailRejected`."""
        ...


class FileMailer:
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._write, message)

    def _write(self, message: EmailMessage) -> None:
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            # Named after the Message-ID: sending the same message twice (a retried job)
            # rewrites one file instead of adding a second.
            name = re.sub(r"[^A-Za-z0-9.@-]", "_", str(message["Message-ID"]).strip("<>"))
            path = self._directory / f"{name}.eml"
            partial = path.with_suffix(".partial")
            partial.write_bytes(message.as_bytes())
            os.replace(partial, path)
        except OSError as exc:  # a full or read-only disk may recover: let the job retry
            raise MailDeliveryError(str(exc)) from exc


def compose(
    *, sender: str, to: list[str], subject: str, message_id: str, body: str
) -> EmailMessage:
    """A plain-text message. `message_id` names the logical email (`order-7-confirmation`):
    fixed, so a job that runs twice sends a message that mail servers and `FileMailer`
    recognise as the same one."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    domain = parseaddr(sender)[1].partition("@")[2] or "mail.invalid"
    message["Message-ID"] = f"<{message_id}@{domain}>"
    message.set_content(body)
    return message

"""Sending email through an SMTP server, with nothing but the standard library.

`smtplib` blocks, so each message is sent on a thread (`asyncio.to_thread`) and the
worker's event loop goes on running other jobs meanwhile. Each message gets its own
connection: a little slower than keeping one open, but there is nothing to keep alive
between jobs, and a server that dropped us last time is simply connected to again.

An SMTP reply says whether trying again can help: 4xx means "not now" (greylisting, a
full queue, a server restarting), 5xx means "no" (no such mailbox, wrong password, refused
as spam). The first becomes `MailDeliveryError`, which the job retries with backoff; the
second `MailRejected`, which fails the job at once.
"""

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Literal, Protocol

from pydantic import SecretStr

from roadmap_shared.mail import FileMailer, MailDeliveryError, Mailer, MailRejected

logger = logging.getLogger(__name__)

# starttls: connect in plain text, then upgrade (the submission port, 587);
# tls: TLS from the first byte (port 465); none: never encrypted (a relay on localhost).
SmtpSecurity = Literal["starttls", "tls", "none"]


def _is_temporary(code: int) -> bool:
    return 400 <= code < 500


def _failure(code: int, reply: bytes | str) -> MailDeliveryError | MailRejected:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    if _is_temporary(code):
        return MailDeliveryError(f"{code} {text}")
    return MailRejected(f"{code} {text}")


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: SmtpSecurity,
        username: str = "",
        password: SecretStr | None = None,
        timeout_seconds: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if username and password is None:
            raise ValueError("a username needs a password")
        self._host = host
        self._port = port
        self._security = security
        self._username = username
        self._password = password
        self._timeout = timeout_seconds
        # Verifies the server's certificate and host name against the system's trust store.
        self._ssl_context = ssl_context or ssl.create_default_context()

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send, message)

    def _connect(self) -> smtplib.SMTP:
        if self._security == "tls":
            return smtplib.SMTP_SSL(
                self._host, self._port, timeout=self._timeout, context=self._ssl_context
            )
        return smtplib.SMTP(self._host, self._port, timeout=self._timeout)

    def _send(self, message: EmailMessage) -> None:
        try:
            with self._connect() as smtp:  # leaving the block says QUIT
                if self._security == "starttls":
                    smtp.starttls(context=self._ssl_context)
                if self._username and self._password is not None:
                    smtp.login(self._username, self._password.get_secret_value())
                # The envelope (MAIL FROM, RCPT TO) comes from the From and To headers.
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            # Raised only when every recipient was refused: nobody has the message, so a
            # retry duplicates nothing. Worth one if any refusal was temporary.
            replies = list(exc.recipients.values())
            temporary = [reply for reply in replies if _is_temporary(reply[0])]
            raise _failure(*(temporary or replies)[0]) from exc
        except smtplib.SMTPResponseException as exc:  # MAIL FROM, DATA, AUTH, the greeting
            raise _failure(exc.smtp_code, exc.smtp_error) from exc
        except smtplib.SMTPNotSupportedError as exc:
            # The server offers no STARTTLS (or no AUTH). Sending in plain text instead
            # would leak the password and the message: the configuration must change.
            raise MailRejected(str(exc)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # Unreachable, timed out, disconnected, a failed TLS handshake: may pass.
            raise MailDeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if refused:
            # Delivered to the others; a retry would send them a second copy.
            logger.warning("the mail server refused some recipients: %s", refused)


class MailSettings(Protocol):
    """The settings `build_mailer` reads; each stage's Settings has them, under its prefix."""

    @property
    def mail_backend(self) -> Literal["file", "smtp"]: ...
    @property
    def mail_dir(self) -> Path: ...
    @property
    def smtp_host(self) -> str: ...
    @property
    def smtp_port(self) -> int: ...
    @property
    def smtp_security(self) -> Literal["starttls", "tls", "none"]: ...
    @property
    def smtp_username(self) -> str: ...
    @property
    def smtp_password(self) -> SecretStr | None: ...
    @property
    def smtp_timeout_seconds(self) -> float: ...


def build_mailer(settings: MailSettings) -> Mailer:
    """The one place that picks how email leaves, from the stage's `MAIL_BACKEND`."""
    if settings.mail_backend == "smtp":
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout_seconds=settings.smtp_timeout_seconds,
        )
    return FileMailer(settings.mail_dir)

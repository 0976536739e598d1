"""A real SMTP server for tests: aiosmtpd, in a thread, on a free local port. It speaks the
wire protocol (EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA), so `SmtpMailer` is tested against
the same conversation a production mail server would have with it."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthenticatorType, AuthResult, Envelope, LoginPassword, Session

from roadmap_shared.testing.private_servers import free_port


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None  # who authenticated, if anyone


class Mailbox:
    """The server's handler: keeps what it accepts. It can refuse the first `refuse` DATA
    commands with `refusal`, and refuse recipients in `unknown` with a 550."""

    def __init__(
        self,
        *,
        refuse: int = 0,
        refusal: str = "451 4.3.0 Mailbox busy, try again later",
        unknown: frozenset[str] = frozenset(),
    ) -> None:
        self.received: list[Received] = []
        self.refused = 0
        self._refuse = refuse
        self._refusal = refusal
        self._unknown = unknown

    # aiosmtpd calls the handler's `handle_<COMMAND>` methods, when it has them.
    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self._unknown:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refused < self._refuse:
            self.refused += 1
            return self._refusal
        assert isinstance(envelope.content, bytes)
        assert envelope.mail_from is not None
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        credentials = session.auth_data  # what the authenticator returned for this session
        login = credentials.login.decode() if isinstance(credentials, LoginPassword) else None
        self.received.append(Received(envelope.mail_from, envelope.rcpt_tos, message, login))
        return "250 2.0.0 OK: queued"


def accept_only(username: str, password: str) -> AuthenticatorType:
    """An aiosmtpd authenticator that knows one user; anyone else gets 535."""

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        valid = isinstance(auth_data, LoginPassword) and (
            (auth_data.login, auth_data.password) == (username.encode(), password.encode())
        )
        return AuthResult(success=valid, auth_data=auth_data, handled=False)

    return authenticate


@contextmanager
def smtp_server(mailbox: Mailbox, **options: Any) -> Iterator[int]:
    """Runs an SMTP server for `mailbox` (aiosmtpd `SMTP` keyword `options`: TLS, AUTH)
    and yields its port."""
    port = free_port()
    # A fixed server name: aiosmtpd would otherwise look up this host's FQDN, which can be slow.
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=port, server_hostname="mail.test", **options
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()

"""`SmtpMailer` against a real SMTP server: delivery, TLS, login, and what each failure means."""

import ipaddress
import logging
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from roadmap_shared.mail import MailDeliveryError, MailRejected
from roadmap_shared.smtp import SmtpMailer
from roadmap_shared.testing.mail_server import Mailbox, accept_only, smtp_server
from roadmap_shared.testing.private_servers import free_port


def a_message(*recipients: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Shop <orders@shop.example>"
    message["To"] = ", ".join(recipients or ["ada@customer.example"])
    message["Subject"] = "Your order #1 is confirmed"
    message["Message-ID"] = "<order-1-confirmation@shop.example>"
    message.set_content("Thank you for your order.")
    return message


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext  # presents a certificate for 127.0.0.1
    client: ssl.SSLContext  # trusts that certificate, and only it


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A self-signed certificate for 127.0.0.1, made for this run (`cryptography` comes
    with moto): the mailer verifies it exactly as it would a real server's."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    certificate_file, key_file = directory / "server.crt", directory / "server.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(certificate_file, key_file)
    return Tls(server=server, client=ssl.create_default_context(cafile=certificate_file))


async def test_a_message_is_handed_to_the_smtp_server() -> None:
    mailbox = Mailbox()

    with smtp_server(mailbox) as port:
        await SmtpMailer("127.0.0.1", port, security="none").send(a_message())

    [received] = mailbox.received
    assert received.mail_from == "orders@shop.example"  # the envelope, from the headers
    assert received.rcpt_tos == ["ada@customer.example"]
    assert received.message["Subject"] == "Your order #1 is confirmed"
    assert received.message["Message-ID"] == "<order-1-confirmation@shop.example>"
    assert received.message.get_content().rstrip() == "Thank you for your order."
    assert received.login is None


async def test_with_starttls_the_mailer_encrypts_then_logs_in(tls: Tls) -> None:
    mailbox = Mailbox()
    # The server refuses MAIL before STARTTLS, and AUTH over an unencrypted connection.
    options = {"tls_context": tls.server, "require_starttls": True, "auth_required": True}

    with smtp_server(mailbox, authenticator=accept_only("shop", "pa55word"), **options) as port:
        mailer = SmtpMailer(
            "127.0.0.1",
            port,
            security="starttls",
            username="shop",
            password=SecretStr("pa55word"),
            ssl_context=tls.client,
        )
        await mailer.send(a_message())

    assert [received.login for received in mailbox.received] == ["shop"]


# aiosmtpd warns about AUTH without STARTTLS; with implicit TLS it is encrypted all the same.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_with_implicit_tls_the_connection_is_encrypted_from_the_first_byte(
    tls: Tls,
) -> None:
    mailbox = Mailbox()
    # `auth_require_tls` looks for STARTTLS, which an implicit-TLS connection never sends.
    options = {"ssl_context": tls.server, "auth_required": True, "auth_require_tls": False}

    with smtp_server(mailbox, authenticator=accept_only("shop", "pa55word"), **options) as port:
        mailer = SmtpMailer(
            "127.0.0.1",
            port,
            security="tls",
            username="shop",
            password=SecretStr("pa55word"),
            ssl_context=tls.client,
        )
        await mailer.send(a_message())

    assert [received.login for received in mailbox.received] == ["shop"]


async def test_a_server_with_an_untrusted_certificate_is_sent_nothing(tls: Tls) -> None:
    mailbox = Mailbox()

    with smtp_server(mailbox, tls_context=tls.server) as port:
        # The system's trust store, which has never heard of this certificate.
        mailer = SmtpMailer("127.0.0.1", port, security="starttls")
        with pytest.raises(MailDeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
            await mailer.send(a_message())

    assert mailbox.received == []


async def test_a_server_without_starttls_is_never_used_in_plain_text() -> None:
    mailbox = Mailbox()

    with smtp_server(mailbox) as port:
        mailer = SmtpMailer(
            "127.0.0.1", port, security="starttls", username="shop", password=SecretStr("pw")
        )
        with pytest.raises(MailRejected, match="STARTTLS"):
            await mailer.send(a_message())

    assert mailbox.received == []


async def test_a_wrong_password_is_rejected_for_good(tls: Tls) -> None:
    mailbox = Mailbox()

    with smtp_server(
        mailbox, tls_context=tls.server, authenticator=accept_only("shop", "pa55word")
    ) as port:
        mailer = SmtpMailer(
            "127.0.0.1",
            port,
            security="starttls",
            username="shop",
            password=SecretStr("guess"),
            ssl_context=tls.client,
        )
        with pytest.raises(MailRejected, match="535"):
            await mailer.send(a_message())

    assert mailbox.received == []


@pytest.mark.parametrize(
    ("refusal", "error"),
    [
        ("451 4.3.0 Mailbox busy, try again later", MailDeliveryError),  # worth a retry
        ("554 5.7.1 Message refused", MailRejected),  # not worth one
    ],
)
async def test_the_reply_code_says_whether_a_retry_can_help(
    refusal: str, error: type[Exception]
) -> None:
    mailbox = Mailbox(refuse=1, refusal=refusal)

    with smtp_server(mailbox) as port, pytest.raises(error, match=refusal[:3]):
        await SmtpMailer("127.0.0.1", port, security="none").send(a_message())

    assert mailbox.refused == 1


async def test_an_unreachable_server_is_worth_a_retry() -> None:
    mailer = SmtpMailer("127.0.0.1", free_port(), security="none", timeout_seconds=2)

    with pytest.raises(MailDeliveryError, match="ConnectionRefusedError"):
        await mailer.send(a_message())


async def test_unknown_recipients_are_rejected_and_the_others_still_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    mailbox = Mailbox(unknown=frozenset({"gone@customer.example"}))

    with smtp_server(mailbox) as port:
        mailer = SmtpMailer("127.0.0.1", port, security="none")
        with pytest.raises(MailRejected, match="550"):
            await mailer.send(a_message("gone@customer.example"))
        with caplog.at_level(logging.WARNING):
            await mailer.send(a_message("ada@customer.example", "gone@customer.example"))

    # Not retried: a second attempt would send Ada a second copy.
    assert [received.rcpt_tos for received in mailbox.received] == [["ada@customer.example"]]
    assert "gone@customer.example" in caplog.text


def test_a_username_without_a_password_is_a_mistake() -> None:
    with pytest.raises(ValueError, match="password"):
        SmtpMailer("127.0.0.1", 587, security="starttls", username="shop")

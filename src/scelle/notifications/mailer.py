"""Mailers: SMTP (STARTTLS, implicit TLS or plain, with optional login) and the log."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from scelle.config import Settings

__all__ = ["LogMailer", "Mailer", "Message", "SMTPMailer", "deliver", "mailer_for", "mask"]

log = logging.getLogger("scelle.notifications")


@dataclass(frozen=True)
class Message:
    """One plain-text e-mail. ``kind`` names it in logs (``exfiltration_alert``...)."""

    to: str
    subject: str
    body: str
    kind: str


class Mailer(Protocol):
    """Sends a message or raises ``OSError``/``smtplib.SMTPException``."""

    def send(self, message: Message) -> None: ...


def mask(address: str) -> str:
    """``a***@example.org``: enough to tell recipients apart in a log, not to harvest them."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


class LogMailer:
    """The embedded default: logs that a message was due, without its body."""

    def send(self, message: Message) -> None:
        """Log kind, masked recipient and subject (subjects never hold personal data)."""
        log.warning(
            "no SMTP server configured; %s to %s not sent: %s",
            message.kind,
            mask(message.to),
            message.subject,
        )


class SMTPMailer:
    """Sends through an SMTP server; TLS certificates are verified."""

    def __init__(self, settings: Settings) -> None:
        """Read host, port, TLS mode, credentials and sender from ``settings``."""
        if not settings.smtp_host:
            raise ValueError("SMTPMailer needs SCELLE_SMTP_HOST")
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.tls = settings.smtp_tls
        self.user = settings.smtp_user
        self.password = settings.smtp_password
        self.sender = settings.smtp_from
        self.timeout = settings.smtp_timeout_seconds
        self.ca_file = settings.smtp_ca_file

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)

    def _email(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = make_msgid(domain=self.sender.partition("@")[2] or "scelle")
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(message.body)
        return mail

    def send(self, message: Message) -> None:
        """Deliver ``message``; raises OSError or smtplib.SMTPException on failure."""
        client: smtplib.SMTP
        if self.tls == "ssl":
            client = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._context()
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            client.ehlo()
            if self.tls == "starttls":
                client.starttls(context=self._context())
                client.ehlo()
            if self.user:
                password = self.password.get_secret_value() if self.password else ""
                client.login(self.user, password)
            client.send_message(self._email(message))


def mailer_for(settings: Settings) -> Mailer:
    """SMTP when ``smtp_host`` is set, the log otherwise."""
    return SMTPMailer(settings) if settings.smtp_host else LogMailer()


def deliver(settings: Settings, message: Message) -> bool:
    """Send ``message``; never raises (an alert that fails is logged, the request goes on)."""
    try:
        mailer_for(settings).send(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("%s to %s failed: %s", message.kind, mask(message.to), type(exc).__name__)
        return False
    return True

"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, for tests.

``smtp_sink`` is plain SMTP; ``make_sink(tls=...)`` serves STARTTLS or
implicit TLS with a throw-away certificate for 127.0.0.1, and optional login.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SMTPSink:
    host: str
    port: int
    ca_file: Path | None = None
    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if m["To"] == address]

    def settings(self, **extra: Any) -> dict[str, Any]:
        """Scellé settings that point at this server."""
        values: dict[str, Any] = {
            "smtp_host": self.host,
            "smtp_port": self.port,
            "smtp_tls": "none",
            "smtp_from": "alerts@scelle.test",
        }
        if self.ca_file is not None:
            values["smtp_ca_file"] = self.ca_file
        values.update(extra)
        return values


class _Handler:
    def __init__(self, sink: SMTPSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.sink.received.append(message)
        self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp.crt", folder / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _authenticator(user: str, password: str) -> Callable[..., AuthResult]:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == user
            and data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False)

    return check


@pytest.fixture
def make_sink(tmp_path: Path) -> Iterator[Callable[..., SMTPSink]]:
    controllers: list[Controller] = []

    def start(*, tls: str = "none", login: tuple[str, str] | None = None) -> SMTPSink:
        sink = SMTPSink("127.0.0.1", _free_port())
        kwargs: dict[str, Any] = {}
        if tls != "none":
            cert, key = _certificate(tmp_path)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            sink.ca_file = cert
            if tls == "ssl":
                kwargs["ssl_context"] = context
                # aiosmtpd's start-up self-check must trust the throw-away certificate.
                kwargs["server_hostname"] = "127.0.0.1"
            else:
                kwargs["tls_context"] = context
                kwargs["require_starttls"] = True
        if login is not None:
            kwargs["authenticator"] = _authenticator(*login)
            # Implicit TLS is TLS from the first byte; aiosmtpd only knows STARTTLS as TLS.
            kwargs["auth_require_tls"] = tls == "starttls"
        controller = Controller(_Handler(sink), hostname="127.0.0.1", port=sink.port, **kwargs)
        controller.start()
        controllers.append(controller)
        return sink

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp_sink(make_sink: Callable[..., SMTPSink]) -> SMTPSink:
    return make_sink()

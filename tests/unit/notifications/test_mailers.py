"""Mailers against a real SMTP server (aiosmtpd): plain, STARTTLS, implicit TLS, login."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.smtp_sink import SMTPSink, make_sink, smtp_sink  # noqa: F401  (fixtures)

from scelle.config import Settings
from scelle.notifications import LogMailer, Message, SMTPMailer, deliver, mailer_for
from scelle.notifications.messages import (
    WARNING_EN,
    WARNING_FR,
    exfiltration_alert,
    new_device_login,
)

MESSAGE = Message(to="ana@lab.test", subject="Scellé : test", body="bonjour", kind="test")


def test_plain_smtp_delivers(tmp_path: Path, smtp_sink: SMTPSink) -> None:  # noqa: F811
    settings = Settings(data=tmp_path, **smtp_sink.settings())
    assert isinstance(mailer_for(settings), SMTPMailer)
    assert deliver(settings, MESSAGE)
    (mail,) = smtp_sink.to("ana@lab.test")
    assert mail["Subject"] == "Scellé : test"
    assert mail["From"] == "alerts@scelle.test"
    assert mail.get_content().strip() == "bonjour"


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_tls_with_login_delivers_and_verifies_the_certificate(
    tmp_path: Path,
    make_sink: Callable[..., SMTPSink],  # noqa: F811
    tls: str,
) -> None:
    sink = make_sink(tls=tls, login=("mailer", "s3cret-pass"))
    settings = Settings(
        data=tmp_path,
        **sink.settings(smtp_tls=tls, smtp_user="mailer", smtp_password="s3cret-pass"),
    )
    assert deliver(settings, MESSAGE)
    assert len(sink.to("ana@lab.test")) == 1
    # A wrong password, and a certificate nobody vouches for, are both refused.
    wrong = Settings(
        data=tmp_path, **sink.settings(smtp_tls=tls, smtp_user="mailer", smtp_password="nope")
    )
    assert not deliver(wrong, MESSAGE)
    untrusted = Settings(
        data=tmp_path,
        **sink.settings(
            smtp_tls=tls, smtp_user="mailer", smtp_password="s3cret-pass", smtp_ca_file=None
        ),
    )
    assert not deliver(untrusted, MESSAGE)
    assert len(sink.to("ana@lab.test")) == 1


def test_an_unreachable_server_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data=tmp_path, smtp_host="127.0.0.1", smtp_port=1, smtp_tls="none")
    with caplog.at_level(logging.ERROR, "scelle.notifications"):
        assert not deliver(settings, MESSAGE)
    assert "a***@lab.test" in caplog.text
    assert "ana@" not in caplog.text


def test_without_smtp_the_log_mailer_records_no_body(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data=tmp_path)
    assert isinstance(mailer_for(settings), LogMailer)
    secret_body = Message(
        to="bob@cpam.test", subject="Scellé : test", body="NIR 1 84 12 75 123 456 78", kind="t"
    )
    with caplog.at_level(logging.WARNING, "scelle.notifications"):
        assert deliver(settings, secret_body)
    assert "b***@cpam.test" in caplog.text
    assert "NIR" not in caplog.text
    assert "bob@" not in caplog.text


def test_every_message_warns_in_both_languages_and_carries_no_link() -> None:
    now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    messages = [
        exfiltration_alert(
            to="admin@lab.test",
            account_email="ana@lab.test",
            kind="download",
            count=200,
            window_minutes=10,
            detected_at=now,
            until=now + timedelta(minutes=30),
        ),
        new_device_login(
            to="ana@lab.test", at=now, device="scelle/0.1\x00\n", network="192.0.2.x", method="x"
        ),
    ]
    for message in messages:
        assert WARNING_FR in message.body
        assert WARNING_EN in message.body
        assert "http" not in message.body
        assert "\x00" not in message.body

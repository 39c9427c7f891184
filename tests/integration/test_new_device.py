"""A login from a device not seen before e-mails the user (aiosmtpd receives it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests import factories
from tests.factories import Member
from tests.smtp_sink import SMTPSink, make_sink, smtp_sink  # noqa: F401  (fixtures)

from scelle.accounts.devices import network_of
from scelle.config import Settings
from scelle.db.models import KnownDevice, Role
from scelle.notifications.messages import WARNING_EN, WARNING_FR
from scelle.server.app import create_app
from scelle.server.container import Services, build_services

pytestmark = pytest.mark.integration

DEVICE_A = "a" * 32
DEVICE_B = "b" * 32


@pytest.fixture
def app(tmp_path: Path, smtp_sink: SMTPSink) -> Iterator[tuple[TestClient, Services]]:  # noqa: F811
    services = build_services(Settings(data=tmp_path / "data", **smtp_sink.settings()))
    with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
        yield client, services
    services.database.dispose()


def _login(client: TestClient, member: Member, code: str, headers: dict[str, str]) -> str:
    answer = client.post(
        "/api/v1/auth/token",
        json={"email": member.email, "password": factories.PASSWORD, "otp": code},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def test_a_new_device_is_notified_a_known_one_is_not(
    app: tuple[TestClient, Services],
    smtp_sink: SMTPSink,  # noqa: F811
) -> None:
    client, services = app
    factories.org(services, "lab")
    ana = factories.member(services, "lab", Role.SENDER)
    codes = iter(ana.recovery_codes)
    # The first device of an account is its enrolment: recorded, not notified.
    _login(client, ana, next(codes), {"X-Scelle-Device": DEVICE_A})
    _login(client, ana, next(codes), {"X-Scelle-Device": DEVICE_A})
    assert smtp_sink.received == []

    token = _login(client, ana, next(codes), {"X-Scelle-Device": DEVICE_B})
    (mail,) = smtp_sink.to(ana.email)
    body = mail.get_content()
    assert WARNING_FR in body
    assert WARNING_EN in body
    assert "http" not in body
    assert token not in mail.as_string()
    assert DEVICE_B not in mail.as_string()
    assert "testclient" in body  # the user agent, to help the user recognise the device

    # Without a device id (a browser) the user agent and network prefix tell devices apart.
    browser = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"}
    _login(client, ana, next(codes), browser)
    _login(client, ana, next(codes), browser)
    assert len(smtp_sink.to(ana.email)) == 2
    assert "Firefox/133.0" in smtp_sink.to(ana.email)[1].get_content()

    # A failed login notifies nothing.
    client.post(
        "/api/v1/auth/token",
        json={"email": ana.email, "password": "wrong", "otp": "000000"},
        headers={"X-Scelle-Device": "c" * 32},
    )
    assert len(smtp_sink.to(ana.email)) == 2

    # Only keyed hashes are stored: no device id, no user agent, no address.
    with services.database.transaction() as session:
        rows = session.scalars(select(KnownDevice).where(KnownDevice.user_id == ana.user_id))
        hashes = [r.device_hash for r in rows]
    assert len(hashes) == 3
    assert all(len(h) == 64 and DEVICE_A not in h for h in hashes)


def test_network_prefixes() -> None:
    assert network_of("192.0.2.77") == "192.0.2.0/24"
    assert network_of("2001:db8:1:2::5") == "2001:db8:1::/48"
    assert network_of("testclient") == "unknown"
    assert network_of(None) == "unknown"

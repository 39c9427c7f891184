"""Bulk reading through the real app: detected, throttled (429), audited, admins e-mailed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests import factories
from tests.factories import Member
from tests.integration.test_transfers_api import auth, send
from tests.smtp_sink import SMTPSink, make_sink, smtp_sink  # noqa: F401  (fixtures)

from scelle.config import Settings
from scelle.db.models import AccountActivity, AuditEvent, Role
from scelle.notifications.messages import WARNING_EN, WARNING_FR
from scelle.server.app import create_app
from scelle.server.container import Services, build_services

pytestmark = pytest.mark.integration

CANARY = b"NIR 2 84 05 75 123 456 78; Dupont Jeanne; HIV+"


@pytest.fixture
def guarded(tmp_path: Path, smtp_sink: SMTPSink) -> Iterator[tuple[TestClient, Services]]:  # noqa: F811
    settings = Settings(
        data=tmp_path / "data",
        exfiltration_max_downloads=3,
        exfiltration_max_listings=5,
        exfiltration_max_lookup_failures=4,
        exfiltration_window=timedelta(minutes=10),
        exfiltration_cooldown=timedelta(minutes=15),
        **smtp_sink.settings(),
    )
    services = build_services(settings)
    with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
        yield client, services
    services.database.dispose()


def _people(services: Services) -> tuple[Member, Member, Member]:
    factories.org(services, "lab")
    factories.org(services, "cpam")
    sender = factories.member(services, "lab", Role.SENDER)
    reader = factories.member(services, "cpam", Role.RECIPIENT)
    admin = factories.member(services, "cpam", Role.ADMIN, publish_key=False)
    return sender, reader, admin


def _events(services: Services, tag: str) -> list[dict[str, object]]:
    with services.database.transaction() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.tag == tag))
        return [json.loads(e.data) | {"actor": e.actor_id} for e in rows]


def _check_alert(sink: SMTPSink, admin: Member, reader: Member, transfer_ids: list[str]) -> None:
    (mail,) = sink.to(admin.email)
    body = mail.get_content()
    assert reader.email in body
    assert WARNING_FR in body
    assert WARNING_EN in body
    assert "http" not in body  # no link at all, so no link with a secret
    for transfer_id in transfer_ids:
        assert transfer_id not in body
    raw = mail.as_bytes()
    for fragment in (b"NIR", b"Dupont", b"HIV", reader.token.encode()):
        assert fragment not in raw


def test_bulk_downloads_are_detected_throttled_audited_and_alerted(
    guarded: tuple[TestClient, Services],
    smtp_sink: SMTPSink,  # noqa: F811
) -> None:
    client, services = guarded
    sender, reader, admin = _people(services)
    ids = [send(client, sender, [reader], CANARY) for _ in range(4)]
    for transfer_id in ids[:3]:
        answer = client.get(f"/api/v1/transfers/{transfer_id}/content", headers=auth(reader))
        assert answer.status_code == 200
    refused = client.get(f"/api/v1/transfers/{ids[3]}/content", headers=auth(reader))
    assert refused.status_code == 429
    assert 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert refused.json()["error"]["code"] == "too_many_requests"
    # Every read of transfers is throttled now, not only downloads.
    assert client.get("/api/v1/transfers", headers=auth(reader)).status_code == 429
    assert client.get(f"/api/v1/transfers/{ids[3]}", headers=auth(reader)).status_code == 429
    # Detected once, audited once, alerted once, to the admin of the reader's org only.
    (event,) = _events(services, "account:exfiltration:detected")
    assert event["actor"] == reader.user_id
    assert event["kind"] == "download"
    assert event["count"] == 3
    assert event["admins_alerted"] == 1
    assert [rcpts for _, rcpts in smtp_sink.envelopes] == [[admin.email]]
    _check_alert(smtp_sink, admin, reader, ids)
    # Other accounts are not affected.
    assert client.get("/api/v1/transfers?box=sent", headers=auth(sender)).status_code == 200


def test_probing_unknown_ids_is_detected(
    guarded: tuple[TestClient, Services],
    smtp_sink: SMTPSink,  # noqa: F811
) -> None:
    client, services = guarded
    sender, reader, admin = _people(services)
    real = send(client, sender, [reader], CANARY)
    for n in range(4):
        probe = f"tr_{'a' * 25}{'bcde'[n]}"
        assert client.get(f"/api/v1/transfers/{probe}", headers=auth(reader)).status_code == 404
    # The fifth lookup is refused, even of a transfer the reader is entitled to.
    refused = client.get(f"/api/v1/transfers/{real}", headers=auth(reader))
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    (event,) = _events(services, "account:exfiltration:detected")
    assert event["kind"] == "lookup_failure"
    _check_alert(smtp_sink, admin, reader, [real])


def test_bulk_listing_is_detected_and_reads_before_a_throttle_do_not_count_again(
    guarded: tuple[TestClient, Services],
    smtp_sink: SMTPSink,  # noqa: F811
) -> None:
    client, services = guarded
    _sender, reader, admin = _people(services)
    for _ in range(5):
        assert client.get("/api/v1/transfers", headers=auth(reader)).status_code == 200
    assert client.get("/api/v1/transfers", headers=auth(reader)).status_code == 429
    assert len(smtp_sink.to(admin.email)) == 1
    # Move the end of the throttle into the past: the account reads again, and
    # the listings made before it do not trigger a second alert.
    from scelle.db.models import AccountThrottle

    with services.database.transaction() as session:
        for throttle in session.scalars(select(AccountThrottle)):
            throttle.until = throttle.detected_at
    assert client.get("/api/v1/transfers", headers=auth(reader)).status_code == 200
    assert len(smtp_sink.to(admin.email)) == 1
    assert len(_events(services, "account:exfiltration:detected")) == 1


def test_counts_are_ids_and_times_only_and_old_ones_are_pruned(
    guarded: tuple[TestClient, Services],
) -> None:
    client, services = guarded
    _sender, reader, _admin = _people(services)
    client.get("/api/v1/transfers", headers=auth(reader))
    from scelle.db.base import utcnow

    with services.database.transaction() as session:
        (row,) = session.scalars(select(AccountActivity)).all()
        assert (row.user_id, row.kind) == (reader.user_id, "listing")
        row.at = utcnow() - timedelta(hours=1)
    client.get("/api/v1/transfers", headers=auth(reader))
    with services.database.transaction() as session:
        rows = session.scalars(select(AccountActivity)).all()
        assert len(rows) == 1
        assert rows[0].at > utcnow() - timedelta(minutes=1)

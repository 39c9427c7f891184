"""``scelle_purges_total`` and ``scelle_throttles_total`` count what happened, as scraped.

Purges are counted when their transaction commits (a purge rolled back is
not one); throttles by the rule that refused, whichever path raised it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests import factories
from tests.factories import Member

from scelle import worker
from scelle.config import Settings
from scelle.db.base import utcnow
from scelle.db.models import Role, Transfer, TransferStatus
from scelle.server.app import create_app
from scelle.server.container import build_services

TOKEN = "metrics-token-for-the-test"


def sample(client: TestClient, name: str) -> float:
    scraped = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert scraped.status_code == 200
    found = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", scraped.text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    settings = Settings(
        data=tmp_path / "data",
        metrics_token=TOKEN,  # type: ignore[arg-type]
        throttle_login_ip="2/hour",
    )
    services = build_services(settings)
    return TestClient(create_app(services=services), raise_server_exceptions=False)


def create_transfer(client: TestClient, sender: Member, recipient: Member) -> str:
    payload = os.urandom(1000)
    created = client.post(
        "/api/v1/transfers",
        json={
            "recipients": [{"user_id": recipient.user_id, "key_id": recipient.key_id}],
            "payload_size": len(payload),
            "payload_sha256": hashlib.sha256(payload).hexdigest(),
            "metadata": base64.b64encode(os.urandom(32)).decode(),
        },
        headers={"Authorization": f"Bearer {sender.token}"},
    )
    assert created.status_code == 201, created.text
    transfer_id: str = created.json()["id"]
    return transfer_id


def test_purges_count_once_each_whoever_purges(client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    factories.org(services, "lab-x")
    factories.org(services, "cpam-75")
    sender = factories.member(services, "lab-x", Role.SENDER)
    recipient = factories.member(services, "cpam-75", Role.RECIPIENT)
    created = create_transfer(client, sender, recipient)
    expired = create_transfer(client, sender, recipient)
    with services.database.transaction() as session:
        row = session.get(Transfer, expired)
        assert row is not None
        row.expires_at = utcnow() - timedelta(minutes=1)
    before = sample(client, "scelle_purges_total")
    worker.run_once(services)
    worker.run_once(services)  # nothing left: counts nothing more
    with services.database.transaction() as session:
        assert session.get(Transfer, expired).status == TransferStatus.PURGED.value  # type: ignore[union-attr]
    assert sample(client, "scelle_purges_total") == before + 1
    before += 1
    cancelled = client.delete(
        f"/api/v1/transfers/{created}",
        headers={"Authorization": f"Bearer {sender.token}"},
    )
    assert cancelled.status_code == 204, cancelled.text
    assert sample(client, "scelle_purges_total") == before + 1
    # A second cancel purges nothing more (the transfer is gone).
    client.delete(
        f"/api/v1/transfers/{created}",
        headers={"Authorization": f"Bearer {sender.token}"},
    )
    assert sample(client, "scelle_purges_total") == before + 1


def test_a_refused_login_counts_under_its_rule(client: TestClient) -> None:
    name = 'scelle_throttles_total{limit="login_ip"}'
    before = sample(client, name)
    statuses = [
        client.post(
            "/api/v1/auth/token",
            json={"email": "nobody@lab-x.test", "password": "wrong password 1", "otp": "000000"},
        ).status_code
        for _ in range(4)
    ]
    assert statuses.count(429) == 2, statuses
    assert sample(client, name) == before + 2

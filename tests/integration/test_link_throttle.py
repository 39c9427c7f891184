"""Patient links are throttled per address: unknown and known ids count alike, 429 says nothing.

The app runs on each backend (memory counts on ``sqlite``, Redis on
``scale``) behind a trusted proxy, so that each request chooses its client
address with ``X-Forwarded-For`` as a reverse proxy would write it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests import factories
from tests.integration.test_transfers_api import auth, tus_upload

from scelle.config import Settings
from scelle.crypto.age.encrypt import encrypt_bytes
from scelle.crypto.age.recipients import ScryptRecipient
from scelle.crypto.signing import transfer_signature_message
from scelle.db.models import AuditEvent, Role
from scelle.server.app import create_app
from scelle.server.container import Services, build_services

pytestmark = pytest.mark.integration

PROXY = "10.9.8.7"
# An hour-long window: the count cannot drain while a slow, shared machine runs the test.
LIMIT = 4


@pytest.fixture
def linked(tmp_path: Path, store_env: dict[str, str]) -> Iterator[tuple[TestClient, Services]]:
    settings = Settings(
        data=tmp_path / "data", throttle_link_ip=f"{LIMIT}/hour", trusted_proxies=[PROXY + "/32"]
    )
    services = build_services(settings)
    app = create_app(services=services)
    with TestClient(app, raise_server_exceptions=False, client=(PROXY, 40000)) as client:
        yield client, services
    services.throttle.reset()  # Redis: only the keys under this test's prefix
    services.database.dispose()


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def _passphrase_link(client: TestClient, services: Services) -> str:
    """A sealed patient link (payload and metadata to a passphrase), made through the API."""
    factories.org(services, "lab-p")
    ana = factories.member(services, "lab-p", Role.SENDER)
    passphrase = [ScryptRecipient("correct horse battery", log_n=10)]
    payload = encrypt_bytes(b"compte rendu\n", passphrase)
    metadata = encrypt_bytes(json.dumps({"v": 1, "name": "cr.pdf"}).encode(), passphrase)
    created = client.post(
        "/api/v1/transfers",
        json={
            "passphrase_link": True,
            "payload_size": len(payload),
            "payload_sha256": hashlib.sha256(payload).hexdigest(),
            "metadata": base64.b64encode(metadata).decode(),
        },
        headers=auth(ana),
    )
    assert created.status_code == 201, created.text
    transfer_id: str = created.json()["id"]
    tus_upload(client, ana, transfer_id, payload)
    message = transfer_signature_message(
        transfer_id, hashlib.sha256(payload).digest(), hashlib.sha256(metadata).digest()
    )
    sealed = client.post(
        f"/api/v1/transfers/{transfer_id}/seal",
        json={"signature": base64.b64encode(ana.signing_key.sign(message)).decode()},
        headers=auth(ana),
    )
    assert sealed.status_code == 200, sealed.text
    return transfer_id


def test_one_address_is_throttled_on_links_whatever_the_id(
    linked: tuple[TestClient, Services],
) -> None:
    client, services = linked
    link = _passphrase_link(client, services)
    unknown = "tr_" + "b" * 26
    guesser = _from("198.51.100.7")
    # Known and unknown ids, description and content, all count against one address.
    answers = [
        client.get(f"/api/v1/links/{link}", headers=guesser),
        client.get(f"/api/v1/links/{unknown}", headers=guesser),
        client.get(f"/api/v1/links/{link}/content", headers=guesser),
        client.get("/api/v1/links/not-an-id", headers=guesser),
    ]
    assert [a.status_code for a in answers] == [200, 404, 200, 404]
    assert answers[2].content.startswith(b"age-encryption.org/v1\n")

    # Past the limit: the same 429 for the real link, an unknown id and the content.
    refused = [
        client.get(f"/api/v1/links/{link}", headers=guesser),
        client.get(f"/api/v1/links/{unknown}", headers=guesser),
        client.get(f"/api/v1/links/{link}/content", headers=guesser),
        client.get(f"/api/v1/links/{unknown}/content", headers=guesser),
    ]
    for answer in refused:
        assert answer.status_code == 429, answer.text
        assert 1 <= int(answer.headers["retry-after"]) <= 3600
        assert answer.headers["cache-control"] == "no-store"
    assert len({a.text for a in refused}) == 1
    assert refused[0].json()["error"]["code"] == "too_many_requests"
    assert link not in refused[0].text

    # Another address still opens the link; the proxy's own address is not the one counted.
    other = client.get(f"/api/v1/links/{link}", headers=_from("203.0.113.9"))
    assert other.status_code == 200, other.text
    assert other.json()["id"] == link

    with services.database.transaction() as session:
        throttled = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == "transfer:link:throttled")
        ).all()
        downloads = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == "transfer:content:download")
        ).all()
    # Audited once for the address (not once per refused request), without the id.
    assert len(throttled) == 1
    assert throttled[0].object_id is None
    assert json.loads(throttled[0].data)["scope"] == "ip"
    # The refused content request spent no download.
    assert len(downloads) == 1


def test_the_link_throttle_can_be_turned_off(tmp_path: Path) -> None:
    services = build_services(Settings(data=tmp_path / "data", throttle_link_ip=""))
    try:
        with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
            codes = {client.get("/api/v1/links/tr_" + "c" * 26).status_code for _ in range(40)}
        assert codes == {404}
    finally:
        services.database.dispose()

"""The oversight API (/api/v1/admin/...): audit view, retention, organisations, breach register.

Who sees what: an organisation's admin sees their own organisation only
(another organisation's id is 404, worded as an unknown one); the admins of
the operator's organisation (``operator_org``) also see the organisations and
the breach register; anyone else is 403. Bad queries are 422, never a 500.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests import factories
from tests.factories import PASSWORD, Member

from scelle import ids
from scelle.accounts import oversight
from scelle.breach import service as breach
from scelle.config import Settings
from scelle.db.base import utcnow
from scelle.db.models import AuditEvent, Role, Transfer
from scelle.server.container import Services
from scelle.transfers import service as transfers

pytestmark = pytest.mark.integration

OPERATOR = "ops-hq"


@pytest.fixture
def settings(tmp_path: Path, store_env: dict[str, str]) -> Settings:
    return Settings(data=tmp_path / "data", operator_org=OPERATOR)


def _auth(member: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {member.token}"}


def _transfer(
    services: Services,
    sender: Member,
    *,
    expires_in: timedelta,
    status: str = "available",
    purged_ago: timedelta | None = None,
    created_ago: timedelta = timedelta(hours=1),
) -> str:
    """A transfer row of ``sender`` with a known expiry (what the service would have stored)."""
    now = utcnow()
    transfer_id = ids.new_id("tr")
    digest = hashlib.sha256(transfer_id.encode()).digest()
    with services.database.transaction() as session:
        session.add(
            Transfer(
                id=transfer_id,
                sender_id=sender.user_id,
                sender_key_id=sender.key_id,
                status="purged" if purged_ago is not None else status,
                payload_size=1000,
                payload_sha256=digest,
                metadata_ciphertext=b"\x00",
                metadata_sha256=digest,
                created_at=now - created_ago,
                expires_at=now + expires_in,
                download_count=0,
                purged_at=now - purged_ago if purged_ago is not None else None,
                purge_reason="expiry" if purged_ago is not None else None,
            )
        )
    return transfer_id


def _events(services: Services, tag: str) -> list[AuditEvent]:
    with services.database.transaction() as session:
        found = list(session.scalars(select(AuditEvent).where(AuditEvent.tag == tag)))
        for event in found:
            session.expunge(event)
        return found


def _two_orgs(services: Services) -> tuple[Member, Member, Member, Member]:
    """Admins and senders of lab-a and lab-b."""
    factories.org(services, "lab-a")
    factories.org(services, "lab-b")
    return (
        factories.member(services, "lab-a", Role.ADMIN),
        factories.member(services, "lab-a", Role.SENDER),
        factories.member(services, "lab-b", Role.ADMIN),
        factories.member(services, "lab-b", Role.SENDER),
    )


def _operator(services: Services) -> Member:
    factories.org(services, OPERATOR)
    return factories.member(services, OPERATOR, Role.ADMIN)


def _org_id(services: Services, member: Member) -> str:
    from scelle.accounts import repository

    with services.database.transaction() as session:
        user = repository.user_by_id(session, member.user_id)
        assert user is not None
        return user.org_id


def test_an_org_admin_sees_only_their_organisation(client: TestClient, services: Services) -> None:
    admin_a, sender_a, admin_b, sender_b = _two_orgs(services)
    b_transfer = _transfer(services, sender_b, expires_in=timedelta(hours=2))
    _transfer(services, sender_a, expires_in=timedelta(hours=2))
    # A transfer event of lab-b, as the service writes it (org id, transfer id).
    with services.database.transaction() as session:
        services.audit.record(
            session,
            "transfer:transfer:create",
            actor_id=sender_b.user_id,
            org_id=_org_id(services, sender_b),
            object_id=b_transfer,
        )

    seen = client.get("/api/v1/admin/audit", headers=_auth(admin_a))
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert body["org"] == "lab-a"
    actors = {e["actor_email"] for e in body["events"]}
    assert {admin_a.email, sender_a.email} <= actors
    assert not actors & {admin_b.email, sender_b.email}
    assert b_transfer not in {e["transfer_id"] for e in body["events"]}
    # lab-b's admin sees that event; both see only their own counts.
    theirs = client.get("/api/v1/admin/audit?action=transfer", headers=_auth(admin_b)).json()
    assert [e["transfer_id"] for e in theirs["events"]] == [b_transfer]
    assert theirs["events"][0]["outcome"] == "success"
    # The worker's purge of a lab-b transfer (no actor) is lab-b's event, not lab-a's.
    with services.database.transaction() as session:
        transfer = session.get(Transfer, b_transfer)
        assert transfer is not None
        transfers.purge(session, services, transfer, "expiry")
    purges = "/api/v1/admin/audit?action=transfer:content:purge"
    [purge] = client.get(purges, headers=_auth(admin_b)).json()["events"]
    assert (purge["transfer_id"], purge["actor_email"]) == (b_transfer, None)
    assert client.get(purges, headers=_auth(admin_a)).json()["events"] == []
    a_counts = client.get("/api/v1/admin/retention", headers=_auth(admin_a)).json()
    assert a_counts["org"] == "lab-a"
    assert a_counts["live"] == 1

    # Another organisation's id answers exactly like an unknown or a malformed one.
    b_id = _org_id(services, admin_b)
    answers = []
    for org in (b_id, ids.new_id("org"), "not-an-id"):
        for path in ("/api/v1/admin/audit", "/api/v1/admin/retention"):
            response = client.get(path, params={"org": org}, headers=_auth(admin_a))
            answers.append((response.status_code, response.json()))
    assert {status for status, _ in answers} == {404}
    assert {json.dumps(body) for _, body in answers} == {
        json.dumps({"error": {"code": "not_found", "message": oversight.NO_SUCH_ORG}})
    }
    own = client.get(
        "/api/v1/admin/retention",
        params={"org": _org_id(services, admin_a)},
        headers=_auth(admin_a),
    )
    assert own.status_code == 200


def test_retention_counts_a_seeded_set_of_transfers(client: TestClient, services: Services) -> None:
    admin_a, sender_a, _admin_b, sender_b = _two_orgs(services)
    hour, day = timedelta(hours=1), timedelta(days=1)
    for expires in (hour, 23 * hour):
        _transfer(services, sender_a, expires_in=expires)
    _transfer(services, sender_a, expires_in=3 * day)
    _transfer(services, sender_a, expires_in=20 * day, created_ago=10 * day)
    _transfer(services, sender_a, expires_in=-hour)  # expired, the worker has not purged it yet
    _transfer(services, sender_a, expires_in=-2 * day, status="pending")  # an abandoned upload
    _transfer(services, sender_a, expires_in=-3 * day, purged_ago=2 * day)
    _transfer(services, sender_a, expires_in=-41 * day, purged_ago=40 * day)  # too long ago
    for expires in (hour, 3 * day, 20 * day, -hour):  # lab-b's: never in lab-a's counts
        _transfer(services, sender_b, expires_in=expires)

    response = client.get("/api/v1/admin/retention", headers=_auth(admin_a))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["counts"] == {
        "within_24h": 2,
        "within_7d": 1,
        "later": 1,
        "expired_awaiting_purge": 2,
        "purged_30d": 1,
    }
    assert body["live"] == 6
    oldest = datetime.fromisoformat(body["oldest_live_created_at"])
    assert utcnow() - oldest > 9 * day  # the one created ten days ago
    expires = datetime.fromisoformat(body["oldest_live_expires_at"])
    assert 19 * day < expires - utcnow() <= 20 * day
    assert body["settings"] == {
        "default_expiry": 7 * 86400,
        "max_expiry": 30 * 86400,
        "upload_expiry": 86400,
        "purge_interval": 60.0,
    }


def test_operator_pages_refuse_other_admins_and_members(
    client: TestClient, services: Services
) -> None:
    admin_a, sender_a, _admin_b, _sender_b = _two_orgs(services)
    operator = _operator(services)
    unknown = ids.new_id("br")
    operator_only = [
        ("GET", "/api/v1/admin/orgs", None),
        ("POST", "/api/v1/admin/orgs", {"name": "lab-z"}),
        ("GET", "/api/v1/admin/breach", None),
        ("GET", f"/api/v1/admin/breach/{unknown}", None),
        ("GET", f"/api/v1/admin/breach/{unknown}/report", None),
    ]
    for member in (admin_a, sender_a):
        for method, path, body in operator_only:
            response = client.request(method, path, json=body, headers=_auth(member))
            assert response.status_code == 403, (member.email, path, response.text)
            assert response.json()["error"]["message"] == oversight.OPERATOR_ONLY
    # A member who is not an admin sees no audit view nor retention of their organisation.
    for path in ("/api/v1/admin/audit", "/api/v1/admin/retention"):
        refused = client.get(path, headers=_auth(sender_a))
        assert refused.status_code == 403
        assert refused.json()["error"]["message"] == oversight.ADMIN_ONLY
        # An admin's token narrowed to 'send' is not an admin's either.
    narrowed = client.post(
        "/api/v1/tokens", json={"name": "script", "scopes": ["send"]}, headers=_auth(admin_a)
    ).json()["token"]
    assert (
        client.get(
            "/api/v1/admin/audit", headers={"Authorization": f"Bearer {narrowed}"}
        ).status_code
        == 403
    )
    # The operator's admin: the organisations; an unknown assessment is 404.
    listed = client.get("/api/v1/admin/orgs", headers=_auth(operator))
    assert listed.status_code == 200
    by_name = {o["name"]: o for o in listed.json()["organisations"]}
    assert by_name["lab-a"]["members"] == 2
    assert by_name["lab-a"]["active"] == 2
    assert by_name[OPERATOR]["members"] == 1
    missing = client.get(f"/api/v1/admin/breach/{unknown}", headers=_auth(operator))
    assert missing.status_code == 404
    for other in ("br_nope", "x" * 300):
        answer = client.get(f"/api/v1/admin/breach/{other}", headers=_auth(operator))
        assert (answer.status_code, answer.json()) == (404, missing.json())


def test_without_an_operator_org_nobody_sees_the_register(services: Services) -> None:
    from scelle.server.app import create_app

    factories.org(services, OPERATOR)
    admin = factories.member(services, OPERATOR, Role.ADMIN)
    plain = dataclasses.replace(
        services, settings=services.settings.model_copy(update={"operator_org": None})
    )
    with TestClient(create_app(services=plain), raise_server_exceptions=False) as other:
        assert other.get("/api/v1/admin/breach", headers=_auth(admin)).status_code == 403
        assert other.get("/api/v1/admin/orgs", headers=_auth(admin)).status_code == 403
        assert other.get("/api/v1/admin/audit", headers=_auth(admin)).status_code == 200


def test_the_operator_creates_an_organisation_and_its_first_admin(
    client: TestClient, services: Services
) -> None:
    operator = _operator(services)
    created = client.post(
        "/api/v1/admin/orgs",
        json={"name": "Clinique-Nord", "admin_email": "Chef@clinique-nord.test"},
        headers=_auth(operator),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["organisation"]["name"] == "clinique-nord"
    assert body["admin_email"] == "chef@clinique-nord.test"
    url = body["enrolment_url"]
    base, _, fragment = url.partition("#")
    assert base == "http://testserver/enrol"  # the token only in the fragment
    assert fragment.startswith("token=")
    enrolled = client.post(
        "/api/v1/enrol", json={"token": fragment.removeprefix("token="), "password": PASSWORD}
    )
    assert enrolled.status_code == 200, enrolled.text
    assert enrolled.json()["org"] == "clinique-nord"
    [event] = _events(services, "admin:org:create")[-1:]
    assert event.actor_id == operator.user_id
    assert event.object_id == body["organisation"]["id"]
    assert _events(services, "admin:user:create")[-1].actor_id == operator.user_id

    again = client.post(
        "/api/v1/admin/orgs", json={"name": "clinique-nord"}, headers=_auth(operator)
    )
    assert again.status_code == 409
    for bad in ({"name": "Pas un nom!"}, {"name": "lab-ok", "admin_email": "nope"}, {"nom": "x"}):
        refused = client.post("/api/v1/admin/orgs", json=bad, headers=_auth(operator))
        assert refused.status_code == 422, (bad, refused.text)
    # A refused creation created nothing (the e-mail was checked first).
    names = {
        o["name"]
        for o in client.get("/api/v1/admin/orgs", headers=_auth(operator)).json()["organisations"]
    }
    assert "lab-ok" not in names
    no_admin = client.post("/api/v1/admin/orgs", json={"name": "lab-seul"}, headers=_auth(operator))
    assert no_admin.status_code == 201
    assert no_admin.json()["enrolment_url"] is None


def test_reading_the_breach_register_is_audited(client: TestClient, services: Services) -> None:
    operator = _operator(services)
    now = utcnow()
    with services.database.transaction() as session:
        report = breach.assess(
            session,
            services,
            start=now - timedelta(days=2),
            end=now - timedelta(days=1),
            scope="server",
            aware_at=now - timedelta(hours=2),
        )
    before = len(_events(services, "breach:register:view"))

    listed = client.get("/api/v1/admin/breach", headers=_auth(operator))
    assert listed.status_code == 200, listed.text
    [entry] = listed.json()["entries"]
    assert entry["id"] == report["id"]
    assert entry["scope"] == "server"
    assert entry["plaintext_exposed"] == "ciphertext_only"
    assert 69 * 3600 < entry["seconds_left"] <= 70 * 3600  # 72 h after awareness, 2 h ago
    views = _events(services, "breach:register:view")
    assert len(views) == before + 1
    assert views[-1].actor_id == operator.user_id

    detail = client.get(f"/api/v1/admin/breach/{report['id']}?lang=fr", headers=_auth(operator))
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert [item["event"] for item in body["timeline"]][-1] == (
        "deadline to notify the supervisory authority"
    )
    assert body["notice"].startswith("# ")
    assert "autorité" in body["notice"]  # the French notice the breach service renders
    [viewed] = _events(services, "breach:assessment:view")
    assert (viewed.actor_id, viewed.object_id) == (operator.user_id, report["id"])

    markdown = client.get(
        f"/api/v1/admin/breach/{report['id']}/report?format=md&lang=en", headers=_auth(operator)
    )
    assert markdown.status_code == 200
    assert markdown.text == report["notice"]
    assert "attachment" in markdown.headers["content-disposition"]
    whole = client.get(f"/api/v1/admin/breach/{report['id']}/report", headers=_auth(operator))
    assert whole.json()["id"] == report["id"]
    assert len(_events(services, "breach:assessment:export")) == 2


def test_malformed_queries_are_422_with_a_clear_message(
    client: TestClient, services: Services
) -> None:
    admin_a, _sender_a, _admin_b, _sender_b = _two_orgs(services)
    operator = _operator(services)
    cases = {
        "from=yesterday": "from is not an ISO 8601 time",
        "to=2026-13-45T00:00": "to is not an ISO 8601 time",
        "from=2026-12-02T00:00Z&to=2026-12-01T00:00Z": "the end of the period is before its start",
        "cursor=bm90LWEtY3Vyc29y": "the cursor is not one this server gave",
        "cursor=%00%01": "the cursor is not one this server gave",
        "limit=100000": "the limit is between 1 and 200",
        "limit=0": "the limit is between 1 and 200",
        "limit=99999999999999999999999": "the limit is between 1 and 200",
        "action=%27%3B%20DROP": "the action is a tag or its start",
        "limit=abc": "the request is malformed",
        "from=" + "9" * 80: "the request is malformed",
    }
    for query, message in cases.items():
        response = client.get(f"/api/v1/admin/audit?{query}", headers=_auth(admin_a))
        assert response.status_code == 422, (query, response.text)
        assert response.json()["error"]["message"].startswith(message), (query, response.text)
    for path in ("report?format=pdf", "report?lang=de", "?lang=xx"):
        response = client.get(
            f"/api/v1/admin/breach/{ids.new_id('br')}/{path}".replace("/?", "?"),
            headers=_auth(operator),
        )
        assert response.status_code == 422, (path, response.text)

    # A good cursor pages back through the events without repeating one.
    first = client.get("/api/v1/admin/audit?limit=2", headers=_auth(admin_a)).json()
    assert len(first["events"]) == 2
    assert first["next_cursor"]
    second = client.get(
        "/api/v1/admin/audit",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=_auth(admin_a),
    ).json()
    assert second["events"]
    assert max(e["leaf_index"] for e in second["events"]) < min(
        e["leaf_index"] for e in first["events"]
    )
    # A date range bounds the events (UTC when the time names no zone).
    future = client.get("/api/v1/admin/audit?from=2999-01-01T00:00", headers=_auth(admin_a))
    assert future.status_code == 200
    assert future.json()["events"] == []

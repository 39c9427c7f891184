"""An organisation admin's API: members, roles, send policy, passkey-required roles.

Through the real app on every backend: only the ``admin`` scope gets in, only
the caller's own organisation is reachable (another organisation's member is
the same 404 as an unknown id), an admin cannot lock themself out, changes
that grant access need a fresh login, and every change is in the audit log.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from tests import factories
from tests.factories import PASSWORD, Member
from tests.webauthn_authenticator import SoftAuthenticator

from scelle.db.base import utcnow
from scelle.db.models import ApiToken, AuditEvent, Role, User
from scelle.ids import new_id
from scelle.server.container import Services

pytestmark = pytest.mark.integration


def _bearer(member: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {member.token}"}


def _events(services: Services, tag: str) -> list[AuditEvent]:
    with services.database.transaction() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.tag == tag).order_by(AuditEvent.seq)
            )
        )


def _listed(client: TestClient, admin: Member) -> dict[str, dict[str, Any]]:
    response = client.get("/api/v1/admin/users", headers=_bearer(admin))
    assert response.status_code == 200, response.text
    return {m["email"]: m for m in response.json()["members"]}


def _age_login(services: Services, member: Member, minutes: int) -> None:
    """Make the member's API token's login ``minutes`` old."""
    with services.database.transaction() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == member.user_id)
            .values(authenticated_at=utcnow() - timedelta(minutes=minutes))
        )


def test_an_admin_lists_and_creates_members_and_the_token_enrols(
    client: TestClient, services: Services
) -> None:
    factories.org(services, "lab-a")
    boss = factories.member(services, "lab-a", Role.ADMIN)
    ana = factories.member(services, "lab-a", Role.SENDER, publish_key=False)
    listed = _listed(client, boss)
    assert set(listed) == {boss.email, ana.email}
    assert listed[ana.email]["roles"] == ["sender"]
    assert listed[ana.email]["status"] == "active"
    assert listed[ana.email]["enrolled_at"] is not None
    assert listed[ana.email]["passkeys"] == 0
    assert listed[ana.email]["key_published"] is False
    assert listed[boss.email]["key_published"] is True

    created = client.post(
        "/api/v1/admin/users",
        json={"email": " New@Lab-A.test ", "roles": ["recipient", "sender"]},
        headers=_bearer(boss),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    token = body["enrolment_token"]
    assert body["member"]["email"] == "new@lab-a.test"
    assert body["member"]["status"] == "pending"
    assert body["member"]["roles"] == ["recipient", "sender"]
    assert body["member"]["enrolment_expires_at"] == body["enrolment_expires_at"]
    # The link carries the token in its fragment only: never sent to a server, never logged.
    link = urlsplit(body["enrolment_url"])
    assert (link.path, link.query, link.fragment) == ("/enrol", "", f"token={token}")
    assert token not in link.path
    # Only the token's keyed hash is stored.
    with services.database.transaction() as session:
        user = session.get(User, body["member"]["id"])
        boss_row = session.get(User, boss.user_id)
        assert user is not None
        assert boss_row is not None
        assert user.org_id == boss_row.org_id
        assert user.enrolment_token_hash == services.secret_box.digest(token)
        assert token not in user.enrolment_token_hash
    [event] = _events(services, "admin:user:create")[-1:]
    assert (event.actor_id, event.object_id) == (boss.user_id, body["member"]["id"])

    enrolled = client.post("/api/v1/enrol", json={"token": token, "password": PASSWORD})
    assert enrolled.status_code == 200, enrolled.text
    assert enrolled.json()["org"] == "lab-a"
    assert enrolled.json()["email"] == "new@lab-a.test"
    after = _listed(client, boss)["new@lab-a.test"]
    assert after["status"] == "active"
    assert after["enrolled_at"] is not None
    assert after["enrolment_expires_at"] is None

    # The same e-mail again: 409; malformed input: 422 saying what is wrong.
    again = client.post(
        "/api/v1/admin/users",
        json={"email": "new@lab-a.test", "roles": ["sender"]},
        headers=_bearer(boss),
    )
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "a user with this e-mail already exists"
    bad_email = client.post(
        "/api/v1/admin/users",
        json={"email": "not-an-address", "roles": ["sender"]},
        headers=_bearer(boss),
    )
    assert bad_email.status_code == 422
    assert bad_email.json()["error"]["message"] == "not a valid e-mail address"
    for payload, field in (
        ({"email": "x@lab-a.test", "roles": []}, "body.roles"),
        ({"email": "x@lab-a.test", "roles": ["root"]}, "body.roles.0"),
        ({"email": "x@lab-a.test"}, "body.roles"),
        ({"email": "x@lab-a.test", "roles": ["sender"], "org": "lab-b"}, "body.org"),
    ):
        refused = client.post("/api/v1/admin/users", json=payload, headers=_bearer(boss))
        assert refused.status_code == 422, payload
        assert refused.json()["error"]["code"] == "invalid_input"
        assert field in refused.json()["error"]["details"]["fields"], refused.json()
    with services.database.transaction() as session:
        assert session.scalar(select(User).where(User.email == "x@lab-a.test")) is None


def test_only_the_admin_scope_gets_in(client: TestClient, services: Services) -> None:
    factories.org(services, "lab-s")
    ana = factories.member(services, "lab-s", Role.SENDER, Role.RECIPIENT)
    boss = factories.member(services, "lab-s", Role.ADMIN)
    narrowed = client.post(
        "/api/v1/tokens", json={"name": "script", "scopes": ["send"]}, headers=_bearer(boss)
    )
    assert narrowed.status_code == 201
    target = boss.user_id
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/api/v1/admin/users", None),
        ("POST", "/api/v1/admin/users", {"email": "z@lab-s.test", "roles": ["admin"]}),
        ("PUT", f"/api/v1/admin/users/{ana.user_id}/roles", {"roles": ["admin"]}),
        ("POST", f"/api/v1/admin/users/{target}/disable", None),
        ("POST", f"/api/v1/admin/users/{target}/enable", None),
        ("POST", f"/api/v1/admin/users/{target}/passkeys/reset", None),
        ("GET", "/api/v1/admin/policy", None),
        ("PUT", "/api/v1/admin/policy/send", {"rules": {"nir": "allow"}}),
        ("PUT", "/api/v1/admin/policy/passkeys", {"roles": []}),
        # A non-admin is refused before their body is even looked at.
        ("PUT", f"/api/v1/admin/users/{ana.user_id}/roles", {"roles": "garbage"}),
    ]
    for token in (ana.token, narrowed.json()["token"]):
        for method, path, payload in calls:
            answer = client.request(
                method, path, json=payload, headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 403, (method, path, answer.text)
            assert answer.json()["error"]["code"] == "permission_denied"
    assert _listed(client, boss)[ana.email]["roles"] == ["recipient", "sender"]
    assert client.get("/api/v1/admin/users").status_code == 401


def test_another_orgs_member_is_the_same_404_as_an_unknown_one(
    client: TestClient, services: Services
) -> None:
    factories.org(services, "lab-a")
    factories.org(services, "lab-b")
    boss = factories.member(services, "lab-a", Role.ADMIN)
    eve = factories.member(services, "lab-b", Role.SENDER)
    before = len(_events(services, "admin:user:lookup:failure"))
    requests: list[tuple[str, str, dict[str, Any] | None]] = [
        ("PUT", "roles", {"roles": ["recipient"]}),
        ("POST", "disable", None),
        ("POST", "enable", None),
        ("POST", "passkeys/reset", None),
    ]
    for method, action, payload in requests:
        answers = [
            client.request(
                method,
                f"/api/v1/admin/users/{user_id}/{action}",
                json=payload,
                headers=_bearer(boss),
            )
            for user_id in (eve.user_id, new_id("usr"), "not-an-id")
        ]
        assert [a.status_code for a in answers] == [404, 404, 404], action
        assert answers[0].json() == answers[1].json() == answers[2].json()
        assert answers[0].json()["error"]["message"] == "no such member"
    failures = _events(services, "admin:user:lookup:failure")[before:]
    assert len(failures) == 3 * len(requests)
    assert {f.actor_id for f in failures} == {boss.user_id}
    assert eve.user_id in {f.object_id for f in failures}
    # Eve is untouched and not listed.
    assert eve.email not in _listed(client, boss)
    assert client.get("/api/v1/me", headers=_bearer(eve)).json()["roles"] == ["sender"]


def test_an_admin_cannot_lock_themself_out(client: TestClient, services: Services) -> None:
    factories.org(services, "lab-l")
    boss = factories.member(services, "lab-l", Role.ADMIN, Role.SENDER)
    own = f"/api/v1/admin/users/{boss.user_id}"
    disabled = client.post(f"{own}/disable", headers=_bearer(boss))
    assert disabled.status_code == 409
    assert "own account" in disabled.json()["error"]["message"]
    demoted = client.put(f"{own}/roles", json={"roles": ["sender"]}, headers=_bearer(boss))
    assert demoted.status_code == 409
    assert demoted.json()["error"]["message"] == (
        "an admin cannot take away their own admin role (ask another admin)"
    )
    reset = client.post(f"{own}/passkeys/reset", headers=_bearer(boss))
    assert reset.status_code == 409
    assert _listed(client, boss)[boss.email]["roles"] == ["admin", "sender"]
    assert _listed(client, boss)[boss.email]["status"] == "active"
    # Their own roles may still change while the admin role stays; the admin keeps every
    # scope, so their login goes on.
    kept = client.put(f"{own}/roles", json={"roles": ["admin"]}, headers=_bearer(boss))
    assert kept.status_code == 200, kept.text
    assert kept.json()["roles"] == ["admin"]
    assert client.get("/api/v1/me", headers=_bearer(boss)).json()["scopes"] == [
        "admin",
        "receive",
        "send",
    ]


def test_roles_disable_enable_and_passkey_reset_take_effect_and_are_audited(
    client: TestClient, services: Services
) -> None:
    factories.org(services, "lab-r")
    boss = factories.member(services, "lab-r", Role.ADMIN)
    ana = factories.member(services, "lab-r", Role.SENDER, Role.RECIPIENT)
    path = f"/api/v1/admin/users/{ana.user_id}"
    # A role taken away takes its permission away now: the old token carried it.
    changed = client.put(f"{path}/roles", json={"roles": ["recipient"]}, headers=_bearer(boss))
    assert changed.status_code == 200, changed.text
    assert changed.json()["roles"] == ["recipient"]
    assert client.get("/api/v1/me", headers=_bearer(ana)).status_code == 401
    [roles_event] = _events(services, "admin:user:roles")
    assert (roles_event.actor_id, roles_event.object_id) == (boss.user_id, ana.user_id)
    assert json.loads(roles_event.data) == {"removed": "sender", "roles": "recipient"}
    login = client.post(
        "/api/v1/auth/token",
        json={"email": ana.email, "password": PASSWORD, "otp": ana.recovery_codes[0]},
    )
    assert login.status_code == 201
    assert client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {login.json()['token']}"}
    ).json()["scopes"] == ["receive"]
    # The same roles again: nothing changes, nothing is audited.
    same = client.put(f"{path}/roles", json={"roles": ["recipient"]}, headers=_bearer(boss))
    assert same.status_code == 200
    assert len(_events(services, "admin:user:roles")) == 1

    # A passkey, registered by Ana, then reset by the admin (she lost her authenticator).
    ana_headers = {"Authorization": f"Bearer {login.json()['token']}"}
    key = SoftAuthenticator(services.settings.passkey_origin)
    begun = client.post("/api/v1/passkeys/register/begin", headers=ana_headers).json()
    registered = client.post(
        "/api/v1/passkeys/register/finish",
        json={"challenge_id": begun["challenge_id"], "credential": key.create(begun["options"])},
        headers=ana_headers,
    )
    assert registered.status_code == 201, registered.text
    assert _listed(client, boss)[ana.email]["passkeys"] == 1
    reset = client.post(f"{path}/passkeys/reset", headers=_bearer(boss))
    assert reset.status_code == 200, reset.text
    assert reset.json() == {"id": ana.user_id, "removed": 1}
    assert _listed(client, boss)[ana.email]["passkeys"] == 0
    [reset_event] = _events(services, "admin:user:passkeys_reset")
    assert reset_event.actor_id == boss.user_id

    disabled = client.post(f"{path}/disable", headers=_bearer(boss))
    assert disabled.status_code == 200
    assert disabled.json()["status"] == "disabled"
    assert client.get("/api/v1/me", headers=ana_headers).status_code == 401
    twice = client.post(f"{path}/disable", headers=_bearer(boss))
    assert twice.status_code == 409
    enabled = client.post(f"{path}/enable", headers=_bearer(boss))
    assert enabled.status_code == 200
    assert enabled.json()["status"] == "active"
    for tag in ("admin:user:disable", "admin:user:enable"):
        [event] = _events(services, tag)
        assert (event.actor_id, event.object_id) == (boss.user_id, ana.user_id)
    # A role unknown to the server, or none: 422, nothing changed.
    for roles in ([], ["superuser"], "sender"):
        refused = client.put(f"{path}/roles", json={"roles": roles}, headers=_bearer(boss))
        assert refused.status_code == 422, roles
    assert _listed(client, boss)[ana.email]["roles"] == ["recipient"]


def test_changes_that_grant_access_need_a_fresh_login(
    client: TestClient, services: Services
) -> None:
    factories.org(services, "lab-f")
    boss = factories.member(services, "lab-f", Role.ADMIN)
    ana = factories.member(services, "lab-f", Role.SENDER)
    _age_login(services, boss, minutes=10)
    stale = [
        ("POST", "/api/v1/admin/users", {"email": "f@lab-f.test", "roles": ["admin"]}),
        ("PUT", f"/api/v1/admin/users/{ana.user_id}/roles", {"roles": ["admin"]}),
        ("POST", f"/api/v1/admin/users/{ana.user_id}/passkeys/reset", None),
        ("PUT", "/api/v1/admin/policy/send", {"rules": {"nir": "allow"}}),
        ("PUT", "/api/v1/admin/policy/passkeys", {"roles": []}),
    ]
    for method, path, payload in stale:
        answer = client.request(method, path, json=payload, headers=_bearer(boss))
        assert answer.status_code == 403, (path, answer.text)
        assert answer.json()["error"]["code"] == "reauthentication_required"
        assert "to change members or policies" in answer.json()["error"]["message"]
    # Reading and disabling do not wait for a new login.
    assert client.get("/api/v1/admin/users", headers=_bearer(boss)).status_code == 200
    wrong = client.post(
        "/api/v1/admin/users",
        json={"email": "f@lab-f.test", "roles": ["admin"], "password": "wrong", "otp": "000000"},
        headers=_bearer(boss),
    )
    assert wrong.status_code == 401
    proved = client.post(
        "/api/v1/admin/users",
        json={
            "email": "f@lab-f.test",
            "roles": ["admin"],
            "password": PASSWORD,
            "otp": boss.recovery_codes[0],
        },
        headers=_bearer(boss),
    )
    assert proved.status_code == 201, proved.text
    assert (
        client.post(f"/api/v1/admin/users/{ana.user_id}/disable", headers=_bearer(boss)).status_code
        == 200
    )


def test_an_admin_reads_and_sets_the_send_policy_and_passkey_roles(
    client: TestClient, services: Services
) -> None:
    factories.org(services, "lab-p")
    boss = factories.member(services, "lab-p", Role.ADMIN, Role.SENDER)
    policy = client.get("/api/v1/admin/policy", headers=_bearer(boss))
    assert policy.status_code == 200
    kinds = ("nir", "ins", "phone", "email", "birth_date", "name", "health_text")
    assert policy.json() == {
        "org": "lab-p",
        "rules": dict.fromkeys(kinds, "allow"),
        "passkey_roles": [],
    }
    rules = {"nir": "block", "health_text": "purpose", "phone": "warn", "email": "allow"}
    saved = client.put("/api/v1/admin/policy/send", json={"rules": rules}, headers=_bearer(boss))
    assert saved.status_code == 200, saved.text
    assert saved.json()["rules"] == {**dict.fromkeys(kinds, "allow"), **rules}
    # What senders of the organisation are held to.
    enforced = client.get("/api/v1/transfers/policy", headers=_bearer(boss)).json()["rules"]
    assert enforced == {"nir": "block", "health_text": "purpose", "phone": "warn"}
    [event] = _events(services, "admin:policy:set")
    assert event.actor_id == boss.user_id
    assert json.loads(event.data) == {"nir": "block", "health_text": "purpose", "phone": "warn"}
    for bad in ({"nir": "maybe"}, {"ssn": "block"}, ["nir"]):
        refused = client.put(
            "/api/v1/admin/policy/send", json={"rules": bad}, headers=_bearer(boss)
        )
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["details"]["fields"].startswith("body.rules")
    assert client.get("/api/v1/transfers/policy", headers=_bearer(boss)).json()["rules"] == enforced

    roles = client.put(
        "/api/v1/admin/policy/passkeys", json={"roles": ["sender", "admin"]}, headers=_bearer(boss)
    )
    assert roles.status_code == 200, roles.text
    assert roles.json()["passkey_roles"] == ["admin", "sender"]
    [passkey_event] = _events(services, "admin:org:passkey_policy")
    assert json.loads(passkey_event.data) == {"roles": "admin sender"}
    assert passkey_event.actor_id == boss.user_id
    # A TOTP login of such a role is now refused for a passkey (with an enrolment ceremony).
    totp = client.post(
        "/api/v1/auth/token",
        json={"email": boss.email, "password": PASSWORD, "otp": boss.recovery_codes[0]},
    )
    assert totp.status_code == 403
    assert totp.json()["error"]["code"] == "passkey_required"
    off = client.put("/api/v1/admin/policy/passkeys", json={"roles": []}, headers=_bearer(boss))
    assert off.json()["passkey_roles"] == []
    bad_role = client.put(
        "/api/v1/admin/policy/passkeys", json={"roles": ["root"]}, headers=_bearer(boss)
    )
    assert bad_role.status_code == 422

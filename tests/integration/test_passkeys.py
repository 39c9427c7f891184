"""Passkeys over HTTP with real signed WebAuthn responses (tests/webauthn_authenticator.py).

The server verifies every response with the ``webauthn`` library: nothing is
skipped. Each refusal is checked for its status, its audit event and the
absence of any token or session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from tests import factories
from tests.factories import PASSWORD, Member
from tests.webauthn_authenticator import SoftAuthenticator

from scelle.accounts import passkeys
from scelle.accounts import repository as accounts_repository
from scelle.client import ScelleClient
from scelle.db.base import utcnow
from scelle.db.models import ApiToken, AuditEvent, Role, WebAuthnChallenge, WebSession
from scelle.errors import ServerError
from scelle.server.container import Services

pytestmark = pytest.mark.integration


def _bearer(member: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {member.token}"}


def _register(
    client: TestClient, member: Member, authenticator: SoftAuthenticator, name: str = "key"
) -> dict[str, Any]:
    begin = client.post("/api/v1/passkeys/register/begin", headers=_bearer(member))
    assert begin.status_code == 200, begin.text
    ceremony = begin.json()
    options = ceremony["options"]
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "none"
    finish = client.post(
        "/api/v1/passkeys/register/finish",
        json={
            "challenge_id": ceremony["challenge_id"],
            "credential": authenticator.create(options),
            "name": name,
        },
        headers=_bearer(member),
    )
    assert finish.status_code == 201, finish.text
    body: dict[str, Any] = finish.json()
    return body


def _begin_login(client: TestClient, member: Member) -> dict[str, Any]:
    begin = client.post(
        "/api/v1/auth/passkey/begin", json={"email": member.email, "password": PASSWORD}
    )
    assert begin.status_code == 200, begin.text
    body: dict[str, Any] = begin.json()
    return body


def _ceremony(services: Services, member: Member) -> dict[str, Any]:
    """A login ceremony as ``POST /auth/passkey/begin`` makes it once the password is right.

    The password step (one argon2 verification, ~0.5 s here) is exercised by
    ``_begin_login``; the refusal cases start after it.
    """
    with services.database.transaction() as session:
        user = accounts_repository.user_by_id(session, member.user_id)
        assert user is not None
        ceremony = passkeys.login_ceremony(session, services, user)
    return {"challenge_id": ceremony.challenge_id, "options": ceremony.options}


def _counts(services: Services, user_id: str) -> tuple[int, int]:
    with services.database.transaction() as session:
        tokens = session.scalar(
            select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user_id)
        )
        sessions = session.scalar(
            select(func.count()).select_from(WebSession).where(WebSession.user_id == user_id)
        )
    return int(tokens or 0), int(sessions or 0)


def _reasons(services: Services) -> list[str]:
    with services.database.transaction() as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.tag == "account:passkey:failure")
            .order_by(AuditEvent.seq)
        )
        return [e.data for e in events]


@dataclass
class Refusals:
    """Check a refused passkey answer: 401, an audit event with ``reason``, nothing issued."""

    client: TestClient
    services: Services
    member: Member

    def __call__(
        self,
        ceremony: dict[str, Any],
        credential: dict[str, Any],
        reason: str,
        *,
        route: str = "/api/v1/auth/passkey/token",
        auth: dict[str, str] | None = None,
    ) -> None:
        before = _counts(self.services, self.member.user_id)
        seen = len(_reasons(self.services))
        response = self.client.post(
            route,
            json={"challenge_id": ceremony["challenge_id"], "credential": credential},
            headers=auth,
        )
        assert response.status_code == 401, (reason, response.text)
        assert response.json()["error"]["code"] == "invalid_credentials"
        assert "set-cookie" not in response.headers
        assert _counts(self.services, self.member.user_id) == before  # no token, no session
        reasons = _reasons(self.services)
        assert len(reasons) == seen + 1, (reason, reasons)
        assert f'"reason":"{reason}"' in reasons[-1], (reason, reasons)
        self.services.throttle.reset()  # each case on its own; throttling has its own test


def test_register_then_log_in_and_every_forgery_is_refused(
    client: TestClient, services: Services
) -> None:
    factories.org(services, "lab-p")
    ana = factories.member(services, "lab-p", Role.SENDER)
    bob = factories.member(services, "lab-p", Role.SENDER)
    origin = services.settings.passkey_origin
    refuse = Refusals(client, services, ana)
    key = SoftAuthenticator(origin)
    bobs_key = SoftAuthenticator(origin, algorithm="EdDSA")
    registered = _register(client, ana, key)
    _register(client, bob, bobs_key)
    listed = client.get("/api/v1/passkeys", headers=_bearer(ana)).json()["passkeys"]
    assert [p["id"] for p in listed] == [registered["id"]]
    assert listed[0]["transports"] == ["usb"]
    assert "public_key" not in listed[0]

    # Password + passkey: a token (API) and a session (web), each from its own ceremony.
    ceremony = _begin_login(client, ana)
    assert ceremony["options"]["userVerification"] == "required"
    assert [c["id"] for c in ceremony["options"]["allowCredentials"]] == [
        registered["credential_id"]
    ]
    token = client.post(
        "/api/v1/auth/passkey/token",
        json={"challenge_id": ceremony["challenge_id"], "credential": key.get(ceremony["options"])},
    )
    assert token.status_code == 201, token.text
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json()['token']}"})
    assert me.json()["email"] == ana.email
    # The same ceremony, replayed with a fresh, valid signature: refused.
    refuse(ceremony, key.get(ceremony["options"]), "challenge_replayed")

    web = _ceremony(services, ana)
    session = client.post(
        "/api/v1/auth/passkey/session",
        json={"challenge_id": web["challenge_id"], "credential": key.get(web["options"])},
    )
    assert session.status_code == 200, session.text
    assert "scelle_session" in session.cookies
    client.cookies.clear()
    bob_logs_in = _ceremony(services, bob)  # Ed25519 works as well
    assert (
        client.post(
            "/api/v1/auth/passkey/token",
            json={
                "challenge_id": bob_logs_in["challenge_id"],
                "credential": bobs_key.get(bob_logs_in["options"]),
            },
        ).status_code
        == 201
    )

    def fresh() -> dict[str, Any]:
        return _ceremony(services, ana)

    c = fresh()
    refuse(c, key.get(c["options"], bad_signature=True), "signature")
    c = fresh()
    forged = key.get(c["options"], origin="https://evil.example")
    refuse(c, forged, "origin")
    c = fresh()
    refuse(c, key.get(c["options"], rp_id="evil.example"), "rp_id")
    c = fresh()
    refuse(c, key.get(c["options"], user_verified=False), "user_verification")
    c = fresh()
    # Bob's genuine passkey, answering Ana's ceremony.
    bob_cred = next(iter(bobs_key.credentials))
    refuse(c, bobs_key.get(c["options"], credential_id=bob_cred), "other_user")
    c = fresh()
    # A clone: a genuine signature, with a counter at or below the one last seen.
    refuse(c, key.get(c["options"], sign_count=1), "sign_count_clone")
    c = fresh()
    # A response to another ceremony's challenge.
    other = fresh()
    refuse(c, key.get(other["options"]), "challenge")
    c = fresh()
    with services.database.transaction() as db:
        db.execute(update(WebAuthnChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
    refuse(c, key.get(c["options"]), "challenge_expired")
    refuse({"challenge_id": "x" * 43}, {}, "challenge_unknown")
    # A registration ceremony cannot finish a login (and vice versa).
    reg = client.post("/api/v1/passkeys/register/begin", headers=_bearer(ana)).json()
    refuse(reg, key.get(c["options"]), "challenge_purpose")

    # Registration answers are verified too: another origin, or another user's ceremony.
    reg = client.post("/api/v1/passkeys/register/begin", headers=_bearer(ana)).json()
    forged_reg = key.create(reg["options"], origin="https://evil.example")
    refuse(reg, forged_reg, "origin", route="/api/v1/passkeys/register/finish", auth=_bearer(ana))
    bobs = client.post("/api/v1/passkeys/register/begin", headers=_bearer(bob)).json()
    planted = key.create(bobs["options"])
    refuse(bobs, planted, "other_user", route="/api/v1/passkeys/register/finish", auth=_bearer(ana))
    assert len(client.get("/api/v1/passkeys", headers=_bearer(bob)).json()["passkeys"]) == 1

    # Still works after all that, and the counter moved on.
    c = fresh()
    ok = client.post(
        "/api/v1/auth/passkey/token",
        json={"challenge_id": c["challenge_id"], "credential": key.get(c["options"])},
    )
    assert ok.status_code == 201


def test_passkey_failures_are_throttled_like_mfa(client: TestClient, services: Services) -> None:
    factories.org(services, "lab-t")
    ana = factories.member(services, "lab-t", Role.SENDER)
    key = SoftAuthenticator(services.settings.passkey_origin)
    _register(client, ana, key)
    statuses = []
    for _ in range(5):  # throttle_mfa_account: 5/minute
        c = _ceremony(services, ana)
        response = client.post(
            "/api/v1/auth/passkey/token",
            json={
                "challenge_id": c["challenge_id"],
                "credential": key.get(c["options"], bad_signature=True),
            },
        )
        statuses.append(response.status_code)
    assert statuses == [401] * 5
    # The sixth attempt is refused at the password step already: 429 with Retry-After.
    sixth = client.post(
        "/api/v1/auth/passkey/begin", json={"email": ana.email, "password": PASSWORD}
    )
    assert sixth.status_code == 429
    assert int(sixth.headers["retry-after"]) > 0


def test_adding_and_removing_needs_a_recent_login(client: TestClient, services: Services) -> None:
    factories.org(services, "lab-r")
    ana = factories.member(services, "lab-r", Role.SENDER)
    key = SoftAuthenticator(services.settings.passkey_origin)
    first = _register(client, ana, key, name="desk key")
    second = _register(client, ana, key, name="spare key")
    # The login behind the token is now older than the re-authentication window.
    with services.database.transaction() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == ana.user_id)
            .values(authenticated_at=utcnow() - timedelta(minutes=6))
        )
    path = f"/api/v1/passkeys/{first['id']}"
    refuse = Refusals(client, services, ana)
    stale = client.request("DELETE", path, headers=_bearer(ana))
    assert stale.status_code == 403
    assert stale.json()["error"]["code"] == "reauthentication_required"
    begin = client.post("/api/v1/passkeys/register/begin", headers=_bearer(ana))
    assert begin.status_code == 403
    wrong = client.request(
        "DELETE", path, headers=_bearer(ana), json={"password": "wrong" * 4, "otp": "000000"}
    )
    assert wrong.status_code == 401
    # A token made by another token never counts as a fresh login.
    made = client.post(
        "/api/v1/tokens", json={"name": "script", "scopes": ["send"]}, headers=_bearer(ana)
    ).json()["token"]
    assert (
        client.request("DELETE", path, headers={"Authorization": f"Bearer {made}"}).status_code
        == 403
    )
    fresh = {"password": PASSWORD, "otp": ana.recovery_codes[0]}
    # Through the SDK, as `scelle passkeys remove` does it.
    sdk = ScelleClient("http://testserver", ana.token, http=client)
    with pytest.raises(ServerError) as stale_sdk:
        sdk.remove_passkey(first["id"])
    assert stale_sdk.value.remote_code == "reauthentication_required"
    sdk.remove_passkey(first["id"], password=PASSWORD, otp=ana.recovery_codes[0])
    assert [p["id"] for p in sdk.passkeys()] == [second["id"]]
    listed = client.get("/api/v1/passkeys", headers=_bearer(ana)).json()["passkeys"]
    assert [p["name"] for p in listed] == ["spare key"]
    with services.database.transaction() as session:
        tags = list(
            session.scalars(select(AuditEvent.tag).where(AuditEvent.object_id == first["id"]))
        )
    assert "account:passkey:remove" in tags
    assert "account:passkey:register" in tags
    # Someone else's passkey, or a removed one: 404 alike.
    assert client.request("DELETE", path, headers=_bearer(ana), json=fresh).status_code == 404

    # The removed passkey no longer logs in; the other one does.
    removed_id = next(cid for cid in key.credentials if _b64(cid) == first["credential_id"])
    c = _ceremony(services, ana)
    refuse(c, key.get(c["options"], credential_id=removed_id), "unknown_passkey")
    c = _ceremony(services, ana)
    kept_id = next(cid for cid in key.credentials if _b64(cid) == second["credential_id"])
    ok = client.post(
        "/api/v1/auth/passkey/token",
        json={
            "challenge_id": c["challenge_id"],
            "credential": key.get(c["options"], credential_id=kept_id),
        },
    )
    assert ok.status_code == 201


def _b64(data: bytes) -> str:
    from tests.webauthn_authenticator import b64url

    return b64url(data)


def test_a_role_that_requires_passkeys(client: TestClient, services: Services) -> None:
    org = factories.org(services, "lab-q")
    ana = factories.member(services, "lab-q", Role.ADMIN, Role.SENDER)
    sam = factories.member(services, "lab-q", Role.RECIPIENT)
    with services.database.transaction() as session:
        row = accounts_repository.org_by_id(session, org.id)
        assert row is not None
        passkeys.set_required_roles(session, services, row, {Role.ADMIN})
    key = SoftAuthenticator(services.settings.passkey_origin)
    code = ana.recovery_codes[0]
    refused = client.post(
        "/api/v1/auth/token", json={"email": ana.email, "password": PASSWORD, "otp": code}
    )
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "passkey_required"
    assert "register" in error["message"]
    enrolment = error["details"]["enrolment"]
    # The code was spent even though the login was refused.
    again = client.post(
        "/api/v1/auth/token", json={"email": ana.email, "password": PASSWORD, "otp": code}
    )
    assert again.status_code == 401
    # The enrolment ceremony registers one passkey, once, and nothing else.
    credential = key.create(enrolment["options"])
    enrolled = client.post(
        "/api/v1/auth/passkey/enrol",
        json={"challenge_id": enrolment["challenge_id"], "credential": credential, "name": "key"},
    )
    assert enrolled.status_code == 201, enrolled.text
    twice = client.post(
        "/api/v1/auth/passkey/enrol",
        json={"challenge_id": enrolment["challenge_id"], "credential": credential},
    )
    assert twice.status_code == 401
    assert _counts(services, ana.user_id)[1] == 0  # never a session from TOTP
    # Now TOTP is refused for good (no enrolment offered), on the web login too.
    session_login = client.post(
        "/api/v1/auth/session",
        json={"email": ana.email, "password": PASSWORD, "otp": ana.recovery_codes[1]},
    )
    assert session_login.status_code == 403
    assert "enrolment" not in session_login.json()["error"].get("details", {})
    assert "scelle_session" not in session_login.cookies
    # The passkey logs in.
    c = _begin_login(client, ana)
    ok = client.post(
        "/api/v1/auth/passkey/token",
        json={"challenge_id": c["challenge_id"], "credential": key.get(c["options"])},
    )
    assert ok.status_code == 201
    # The last passkey cannot be removed while the role requires one.
    listed = client.get(
        "/api/v1/passkeys", headers={"Authorization": f"Bearer {ok.json()['token']}"}
    ).json()["passkeys"]
    last = client.request(
        "DELETE",
        f"/api/v1/passkeys/{listed[0]['id']}",
        headers={"Authorization": f"Bearer {ok.json()['token']}"},
    )
    assert last.status_code == 409
    # The command line (the SDK) logs in with TOTP only, so it is told what to do.
    with pytest.raises(ServerError) as cli_login:
        ScelleClient("http://testserver", http=client).login(
            ana.email, PASSWORD, ana.recovery_codes[2]
        )
    assert cli_login.value.remote_code == "passkey_required"
    assert "from a browser" in str(cli_login.value)
    # Other roles keep TOTP.
    other = client.post(
        "/api/v1/auth/token",
        json={"email": sam.email, "password": PASSWORD, "otp": sam.recovery_codes[0]},
    )
    assert other.status_code == 201


def test_a_disabled_account_is_dead_and_answers_like_a_wrong_password(
    client: TestClient, services: Services
) -> None:
    factories.org(services, "lab-z")
    ana = factories.member(services, "lab-z", Role.SENDER)
    key = SoftAuthenticator(services.settings.passkey_origin)
    _register(client, ana, key)
    web = client.post(
        "/api/v1/auth/session",
        json={"email": ana.email, "password": PASSWORD, "otp": ana.recovery_codes[0]},
    )
    cookie = web.cookies["scelle_session"]
    client.cookies.clear()
    # The web UI's way: the session cookie and its CSRF token.
    jar = {"Cookie": f"scelle_session={cookie}", "X-CSRF-Token": web.json()["csrf_token"]}
    assert client.post("/api/v1/passkeys/register/begin", headers=jar).status_code == 200
    no_csrf = client.post("/api/v1/passkeys/register/begin", headers={"Cookie": jar["Cookie"]})
    assert no_csrf.status_code == 403
    pending = _ceremony(services, ana)  # a ceremony begun before the account is disabled
    boss = factories.member(services, "lab-z", Role.ADMIN)
    disabled = client.post(f"/api/v1/users/{ana.user_id}/disable", headers=_bearer(boss))
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["status"] == "disabled"
    own = client.post(f"/api/v1/users/{boss.user_id}/disable", headers=_bearer(boss))
    assert own.status_code == 409  # an admin cannot lock themselves out
    assert client.get("/api/v1/me", headers=_bearer(ana)).status_code == 401
    assert (
        client.get("/api/v1/me", headers={"Cookie": f"scelle_session={cookie}"}).status_code == 401
    )
    good = client.post(
        "/api/v1/auth/token",
        json={"email": ana.email, "password": PASSWORD, "otp": ana.recovery_codes[1]},
    )
    bad = client.post(
        "/api/v1/auth/token",
        json={"email": ana.email, "password": "not the password", "otp": "123456"},
    )
    assert good.status_code == bad.status_code == 401
    assert good.json() == bad.json()
    begin = client.post(
        "/api/v1/auth/passkey/begin", json={"email": ana.email, "password": PASSWORD}
    )
    assert begin.status_code == 401
    assert begin.json() == bad.json()
    finish = client.post(
        "/api/v1/auth/passkey/token",
        json={"challenge_id": pending["challenge_id"], "credential": key.get(pending["options"])},
    )
    assert finish.status_code == 401
    enabled = client.post(f"/api/v1/users/{ana.user_id}/enable", headers=_bearer(boss))
    assert enabled.json()["status"] == "active"
    with services.database.transaction() as session:
        tags = list(
            session.scalars(select(AuditEvent.tag).where(AuditEvent.object_id == ana.user_id))
        )
    assert "admin:user:disable" in tags
    assert "admin:user:enable" in tags
    back = client.post(
        "/api/v1/auth/token",
        json={"email": ana.email, "password": PASSWORD, "otp": ana.recovery_codes[2]},
    )
    assert back.status_code == 201
    # What was revoked stays revoked.
    assert client.get("/api/v1/me", headers=_bearer(ana)).status_code == 401

"""Web sessions: cookie flags, CSRF, rotation at login, logout and disable end them server-side."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from tests import factories
from tests.factories import PASSWORD, Member

from scelle.accounts import service as accounts
from scelle.db.base import utcnow
from scelle.db.models import Role, WebSession
from scelle.server.container import Services

pytestmark = pytest.mark.integration


def _login(client: TestClient, member: Member, code: str) -> tuple[str, str, str]:
    response = client.post(
        "/api/v1/auth/session", json={"email": member.email, "password": PASSWORD, "otp": code}
    )
    assert response.status_code == 200, response.text
    cookie = response.cookies["scelle_session"]
    client.cookies.clear()
    return cookie, response.json()["csrf_token"], response.headers["set-cookie"]


def _me(client: TestClient, cookie: str) -> int:
    client.cookies.clear()
    return client.get("/api/v1/me", headers={"Cookie": f"scelle_session={cookie}"}).status_code


def test_session_cookie_flags_csrf_and_logout(client: TestClient, services: Services) -> None:
    factories.org(services, "lab-w")
    ana = factories.member(services, "lab-w", Role.SENDER)
    cookie, csrf, set_cookie = _login(client, ana, ana.recovery_codes[0])
    assert len(cookie) >= 32  # 256 random bits, url-safe base64
    flags = {part.strip().lower() for part in set_cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    assert "secure" not in flags  # public_url is not https in this test (see the next test)
    assert _me(client, cookie) == 200

    jar = {"Cookie": f"scelle_session={cookie}"}
    body = {"name": "x", "scopes": ["send"]}
    assert client.post("/api/v1/tokens", json=body, headers=jar).status_code == 403
    wrong = client.post("/api/v1/tokens", json=body, headers={**jar, "X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    ok = client.post("/api/v1/tokens", json=body, headers={**jar, "X-CSRF-Token": csrf})
    assert ok.status_code == 201

    assert client.delete("/api/v1/auth/session", headers=jar).status_code == 403  # CSRF too
    out = client.delete("/api/v1/auth/session", headers={**jar, "X-CSRF-Token": csrf})
    assert out.status_code == 204
    # The same cookie, replayed after logout, is refused server-side.
    assert _me(client, cookie) == 401


def test_login_rotates_the_session_and_timeouts_end_it(
    client: TestClient, services: Services
) -> None:
    factories.org(services, "lab-r")
    ana = factories.member(services, "lab-r", Role.SENDER)
    first, _, _ = _login(client, ana, ana.recovery_codes[0])
    client.cookies.set("scelle_session", first)
    second, _, _ = _login(client, ana, ana.recovery_codes[1])
    assert second != first
    assert _me(client, first) == 401  # the id presented at login was ended
    assert _me(client, second) == 200
    # Idle longer than session_idle_timeout (30 minutes): dead.
    with services.database.transaction() as session:
        session.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    assert _me(client, second) == 401
    third, _, _ = _login(client, ana, ana.recovery_codes[2])
    with services.database.transaction() as session:
        session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert _me(client, third) == 401  # absolute timeout


def test_disable_ends_every_session_and_token(client: TestClient, services: Services) -> None:
    factories.org(services, "lab-d")
    ana = factories.member(services, "lab-d", Role.SENDER)
    cookie, _, _ = _login(client, ana, ana.recovery_codes[0])
    assert _me(client, cookie) == 200
    with services.database.transaction() as session:
        accounts.disable_user(session, services, ana.user_id)
    assert _me(client, cookie) == 401
    bearer = {"Authorization": f"Bearer {ana.token}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


def test_secure_flag_when_public_url_is_https(services: Services) -> None:
    services.settings.public_url = "https://scelle.example"
    factories.org(services, "lab-s")
    ana = factories.member(services, "lab-s", Role.SENDER)
    from scelle.server.app import create_app

    with TestClient(create_app(services=services)) as client:
        response = client.post(
            "/api/v1/auth/session",
            json={"email": ana.email, "password": PASSWORD, "otp": ana.recovery_codes[0]},
        )
    assert response.status_code == 200
    flags = {p.strip().lower() for p in response.headers["set-cookie"].split(";")}
    assert {"secure", "httponly", "samesite=strict"} <= flags

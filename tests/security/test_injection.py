"""Hostile strings in path parameters, headers and login/enrolment fields.

Never a 5xx, never a trace, and the database is unchanged except for audit
events that record the failed attempt.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from scelle.db.models import AuditEvent, Transfer, User
from scelle.server.container import Services
from tests import factories

HOSTILE = [
    "' OR '1'='1",
    "1; DROP TABLE users--",
    '" OR ""="',
    "tr_aaaaaaaaaaaaaaaaaaaaaaaaaa' OR 1=1--",
    "../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "%2e%2e%2f%2e%2e%2f",
    "..\\..\\windows\\win.ini",
    "a\x00b",
    "%00",
    "x" * 5000,
    "${jndi:ldap://127.0.0.1/a}",
    "<script>alert(1)</script>",
    "\u202e\ufeff\U0001f600",
]

PATH_TEMPLATES = [
    ("GET", "/api/v1/transfers/{}"),
    ("GET", "/api/v1/transfers/{}/content"),
    ("POST", "/api/v1/transfers/{}/seal"),
    ("DELETE", "/api/v1/transfers/{}"),
    ("HEAD", "/api/v1/uploads/{}"),
    ("PATCH", "/api/v1/uploads/{}"),
    ("DELETE", "/api/v1/uploads/{}"),
]


def _counts(services: Services) -> tuple[int, int, list[str]]:
    with services.database.transaction() as session:
        users = session.scalar(select(func.count()).select_from(User)) or 0
        transfers = session.scalar(select(func.count()).select_from(Transfer)) or 0
        tags = list(session.scalars(select(AuditEvent.tag).order_by(AuditEvent.seq)))
    return users, transfers, tags


@pytest.fixture
def member(services: Services) -> factories.Member:
    factories.org(services, "lab")
    return factories.member(services, "lab")


def _check(response_status: int, text: str) -> None:
    assert response_status < 500, response_status
    assert "Traceback" not in text
    assert "sqlalchemy" not in text.lower()
    assert "sqlite" not in text.lower()


def _assert_only_failures_added(before: list[str], after: list[str]) -> None:
    assert after[: len(before)] == before
    added = after[len(before) :]
    # Probing many ids is also what exfiltration detection looks for (and throttles).
    expected = ("fail", "denied", "refused", "throttled", "exfiltration:detected")
    assert all(any(word in tag for word in expected) for tag in added), added


def test_hostile_path_parameters(
    client: TestClient, services: Services, member: factories.Member
) -> None:
    users, transfers, tags = _counts(services)
    auth = {
        "Authorization": f"Bearer {member.token}",
        "Tus-Resumable": "1.0.0",
        "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": "0",
    }
    for value in HOSTILE:
        variants = {quote(value, safe="")}
        if value.isprintable():
            variants.add(value)  # raw, so "../" and "%2e" reach the router as sent
        for method, template in PATH_TEMPLATES:
            for variant in variants:
                response = client.request(
                    method, template.format(variant), headers=auth, content=b"x"
                )
                _check(response.status_code, response.text)
        response = client.get("/api/v1/directory", params={"to": value}, headers=auth)
        _check(response.status_code, response.text)
    after = _counts(services)
    assert after[:2] == (users, transfers)
    _assert_only_failures_added(tags, after[2])


def test_hostile_headers(client: TestClient, services: Services, member: factories.Member) -> None:
    users, transfers, tags = _counts(services)
    for value in HOSTILE:
        if "\x00" in value or not value.isascii():
            continue  # not representable in an HTTP header; the client refuses it
        for headers in (
            {"Host": value},
            {"X-Forwarded-For": value},
            {"Authorization": value},
            {"Authorization": f"Bearer {value}"},
            {"Authorization": f"Bearer {member.token}", "X-Forwarded-For": value},
        ):
            response = client.get("/api/v1/me", headers=headers)
            _check(response.status_code, response.text)
            if "Authorization" in headers and member.token not in headers["Authorization"]:
                assert response.status_code == 401
    after = _counts(services)
    assert after[:2] == (users, transfers)
    _assert_only_failures_added(tags, after[2])


def test_hostile_login_and_enrolment_fields(
    client: TestClient, services: Services, member: factories.Member
) -> None:
    users, transfers, tags = _counts(services)
    for value in HOSTILE:
        bodies = [
            ("/api/v1/auth/token", {"email": value, "password": "x", "otp": "123456"}),
            ("/api/v1/auth/token", {"email": member.email, "password": value, "otp": "1"}),
            ("/api/v1/auth/token", {"email": member.email, "password": "x", "otp": value}),
            (
                "/api/v1/auth/token",
                {"email": member.email, "password": "x", "otp": "1", "name": value},
            ),
            ("/api/v1/enrol", {"token": value, "password": "a long passphrase here"}),
            ("/api/v1/enrol", {"token": "not-a-token", "password": value}),
        ]
        for path, body in bodies:
            response = client.post(path, json=body)
            _check(response.status_code, response.text)
            assert response.status_code in (400, 401, 403, 404, 422, 429), response.status_code
    after = _counts(services)
    assert after[:2] == (users, transfers)
    _assert_only_failures_added(tags, after[2])

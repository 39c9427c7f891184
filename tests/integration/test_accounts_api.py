"""Accounts over HTTP: enrolment, login with a second factor, tokens, audit of failures."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests import factories
from tests.factories import PASSWORD, totp_code

from scelle.accounts import service as accounts
from scelle.db.models import AuditEvent, Role
from scelle.server.container import Services

pytestmark = pytest.mark.integration


def _new_user(services: Services, email: str = "ana@lab-x.test") -> str:
    factories.org(services, "lab-x")
    with services.database.transaction() as session:
        _, token = accounts.create_user(
            session, services, email, org_name="lab-x", roles={Role.SENDER}
        )
    return token


def _events(services: Services, tag: str) -> list[AuditEvent]:
    with services.database.transaction() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.tag == tag)))


def test_enrol_then_login_with_totp(client: TestClient, services: Services) -> None:
    token = _new_user(services)
    enrolled = client.post("/api/v1/enrol", json={"token": token, "password": PASSWORD})
    assert enrolled.status_code == 200, enrolled.text
    body = enrolled.json()
    assert body["email"] == "ana@lab-x.test"
    assert len(body["recovery_codes"]) == 10
    assert body["totp_uri"].startswith("otpauth://totp/")

    login = client.post(
        "/api/v1/auth/token",
        json={
            "email": "ana@lab-x.test",
            "password": PASSWORD,
            "otp": totp_code(body["totp_secret"]),
        },
    )
    assert login.status_code == 201, login.text
    api_token = login.json()["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {api_token}"})
    assert me.status_code == 200
    assert me.json()["org"] == "lab-x"
    assert me.json()["scopes"] == ["send"]


def test_enrolment_token_is_single_use(client: TestClient, services: Services) -> None:
    token = _new_user(services)
    assert (
        client.post("/api/v1/enrol", json={"token": token, "password": PASSWORD}).status_code == 200
    )
    again = client.post("/api/v1/enrol", json={"token": token, "password": PASSWORD})
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "invalid_credentials"
    assert len(_events(services, "account:enrol:failure")) == 1


def test_short_password_refused_and_token_still_usable(
    client: TestClient, services: Services
) -> None:
    token = _new_user(services)
    short = client.post("/api/v1/enrol", json={"token": token, "password": "short"})
    assert short.status_code == 422
    assert (
        client.post("/api/v1/enrol", json={"token": token, "password": PASSWORD}).status_code == 200
    )


def test_totp_code_cannot_be_replayed(client: TestClient, services: Services) -> None:
    token = _new_user(services)
    secret = client.post("/api/v1/enrol", json={"token": token, "password": PASSWORD}).json()[
        "totp_secret"
    ]
    code = totp_code(secret)
    creds = {"email": "ana@lab-x.test", "password": PASSWORD, "otp": code}
    assert client.post("/api/v1/auth/token", json=creds).status_code == 201
    replay = client.post("/api/v1/auth/token", json=creds)
    assert replay.status_code == 401
    failures = _events(services, "account:login:failure")
    assert [json.loads(e.data)["reason"] for e in failures] == ["second_factor"]


def test_recovery_code_works_once(client: TestClient, services: Services) -> None:
    token = _new_user(services)
    codes = client.post("/api/v1/enrol", json={"token": token, "password": PASSWORD}).json()[
        "recovery_codes"
    ]
    creds = {"email": "ana@lab-x.test", "password": PASSWORD, "otp": codes[3]}
    assert client.post("/api/v1/auth/token", json=creds).status_code == 201
    assert client.post("/api/v1/auth/token", json=creds).status_code == 401


def test_unknown_and_known_users_fail_alike(client: TestClient, services: Services) -> None:
    token = _new_user(services)
    secret = client.post("/api/v1/enrol", json={"token": token, "password": PASSWORD}).json()[
        "totp_secret"
    ]
    wrong_password = {
        "email": "ana@lab-x.test",
        "password": "not the password!",
        "otp": totp_code(secret),
    }
    unknown = {"email": "nobody@lab-x.test", "password": "not the password!", "otp": "123456"}
    answers = []
    durations = []
    for creds in (wrong_password, unknown):
        started = time.perf_counter()
        response = client.post("/api/v1/auth/token", json=creds)
        durations.append(time.perf_counter() - started)
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1]
    assert answers[0][0] == 401


def test_password_without_second_factor_is_not_enough(
    client: TestClient, services: Services
) -> None:
    token = _new_user(services)
    client.post("/api/v1/enrol", json={"token": token, "password": PASSWORD})
    response = client.post(
        "/api/v1/auth/token",
        json={"email": "ana@lab-x.test", "password": PASSWORD, "otp": "000000"},
    )
    assert response.status_code == 401


def test_logout_revokes_the_token(client: TestClient, services: Services) -> None:
    factories.org(services, "lab-x")
    ana = factories.member(services, "lab-x", Role.SENDER)
    headers = {"Authorization": f"Bearer {ana.token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer scl_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 5000],
)
def test_bad_tokens_get_401(client: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_required"


def test_malformed_json_is_422_without_echo(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/token",
        content=b'{"email": "a@b", "password": "s3cret-value"',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "s3cret-value" not in response.text
    assert response.json()["error"]["code"] == "invalid_input"

"""Bad input gets a clear error with the right status, one JSON shape, and no trace."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests import factories

from scelle.db.models import Role
from scelle.server.container import Services

pytestmark = pytest.mark.integration


def assert_error(response: Any, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert "Traceback" not in response.text
    assert response.headers["Cache-Control"] == "no-store"
    error: dict[str, str] = body["error"]
    return error


@pytest.fixture
def token(services: Services) -> str:
    factories.org(services, "lab-x")
    return factories.member(services, "lab-x", Role.SENDER).token


def test_malformed_json_is_422_and_never_echoes_the_value(client: TestClient) -> None:
    secret = "hunter2-this-is-a-password"
    response = client.post(
        "/api/v1/auth/token",
        content=b'{"email": "a@b", "password": "' + secret.encode() + b'"',
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 422, "invalid_input")
    assert secret not in response.text


def test_wrong_types_name_the_field(client: TestClient, token: str) -> None:
    response = client.post(
        "/api/v1/transfers",
        json={"recipients": "everyone", "payload_size": -1},
        headers={"Authorization": f"Bearer {token}"},
    )
    error = assert_error(response, 422, "invalid_input")
    assert "recipients" in str(error)


def test_unknown_route_and_method(client: TestClient) -> None:
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_missing_and_bad_tokens_are_401(client: TestClient) -> None:
    response = client.get("/api/v1/me")
    assert_error(response, 401, "authentication_required")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer scl_not-a-real-token"})
    assert bad.status_code == 401
    odd = client.get("/api/v1/me", headers={"Authorization": "Basic YTpi"})
    assert odd.status_code == 401


@pytest.mark.parametrize(
    "transfer_id",
    [
        "tr_aaaaaaaaaaaaaaaaaaaaaaaaaa",
        "..%2F..%2Fetc%2Fpasswd",
        "tr_' OR '1'='1",
        "tr_%00",
        "x" * 5000,
    ],
)
def test_unknown_or_hostile_ids_are_404(client: TestClient, token: str, transfer_id: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    assert_error(client.get(f"/api/v1/transfers/{transfer_id}", headers=headers), 404, "not_found")
    content = client.get(f"/api/v1/transfers/{transfer_id}/content", headers=headers)
    assert content.status_code == 404


def test_security_headers_on_every_response(client: TestClient) -> None:
    for response in (client.get("/healthz"), client.get("/api/v1/nothing")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Request-ID"]


def test_hostile_host_header_changes_nothing(client: TestClient) -> None:
    response = client.get("/healthz", headers={"Host": "x'; DROP TABLE users; --"})
    assert response.status_code == 200
    assert client.get("/readyz").status_code == 200


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/transfers" in spec["paths"]

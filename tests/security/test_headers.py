"""Security headers on every answer: success, error, tus, unknown route."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "cache-control": "no-store",
}

CASES = [
    ("GET", "/healthz", {}),
    ("GET", "/readyz", {}),
    ("GET", "/api/v1/openapi.json", {}),
    ("GET", "/api/v1/me", {}),  # 401
    ("GET", "/api/v1/me", {"Authorization": "Bearer not-a-token"}),  # 401
    ("GET", "/api/v1/transfers/tr_aaaaaaaaaaaaaaaaaaaaaaaaaa", {}),  # 401
    ("POST", "/api/v1/auth/token", {}),  # 422 malformed
    ("GET", "/no/such/route", {}),  # 404
    ("PUT", "/healthz", {}),  # 405
    ("OPTIONS", "/api/v1/uploads", {}),  # tus discovery
    ("POST", "/api/v1/uploads", {}),  # 412 without Tus-Resumable
]


@pytest.mark.parametrize(("method", "path", "headers"), CASES)
def test_every_answer_carries_the_security_headers(
    client: TestClient, method: str, path: str, headers: dict[str, str]
) -> None:
    response = client.request(method, path, headers=headers)
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.status_code)
    assert response.headers.get("x-request-id")


def test_error_bodies_are_json_without_trace(client: TestClient) -> None:
    for method, path, headers in CASES:
        response = client.request(method, path, headers=headers)
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/json")
            assert "Traceback" not in response.text
            assert "error" in response.json()


def test_docs_page_still_renders(client: TestClient) -> None:
    """The one page exempt from the strict CSP (it loads Swagger UI) keeps the other headers."""
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert "content-security-policy" not in response.headers
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"

"""Every route of the app answers 401 without credentials, unless it is on PUBLIC with a reason.

Adding a route without ``CurrentUser`` (or equivalent) fails here until it is
listed below with its reason, and a PUBLIC entry that no longer exists fails too.

The rules for the web UI's HTML pages: a page that shows nothing of an account
(the sign-in page, the bundle and style sheet, ``/`` which redirects) is on
PUBLIC; a page that needs a session is on SESSION_PAGES instead and, without a
live session cookie (none, a forged one, or only an API token, which pages do
not accept), answers ``303`` to ``/login?next=...`` with an empty body, never
401 (a browser shows the sign-in page, not an error document).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Route

from scelle.ids import new_id
from scelle.server.container import Services

# (method, path template) -> why it is legitimately reachable without a token.
PUBLIC: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "liveness probe, no data",
    ("GET", "/readyz"): "readiness probe, booleans only",
    ("GET", "/api/v1/openapi.json"): "the public API description",
    ("HEAD", "/api/v1/openapi.json"): "the public API description",
    ("GET", "/api/v1/docs"): "Swagger UI page over the public API description",
    ("HEAD", "/api/v1/docs"): "Swagger UI page over the public API description",
    ("GET", "/docs/oauth2-redirect"): "Swagger UI helper page, static",
    ("HEAD", "/docs/oauth2-redirect"): "Swagger UI helper page, static",
    ("POST", "/api/v1/enrol"): "authenticated by the one-time enrolment token in the body",
    ("POST", "/api/v1/auth/token"): "login: password and second factor in the body",
    ("GET", "/api/v1/auth/oidc/start"): "SSO: redirects to the provider (404 unless configured)",
    (
        "GET",
        "/api/v1/auth/oidc/callback",
    ): "SSO: authenticated by the state and the provider's code",
    ("POST", "/api/v1/auth/session"): "web login: password and second factor in the body",
    ("POST", "/api/v1/auth/passkey/begin"): "passkey login, first step: the password in the body",
    (
        "POST",
        "/api/v1/auth/passkey/token",
    ): "passkey login: the ceremony (begun with the password) and the signed assertion",
    (
        "POST",
        "/api/v1/auth/passkey/session",
    ): "passkey web login: the ceremony (begun with the password) and the signed assertion",
    (
        "POST",
        "/api/v1/auth/passkey/enrol",
    ): "first passkey: the one-registration ceremony a passkey_required login answer gave",
    ("OPTIONS", "/api/v1/uploads"): "tus discovery (version, extensions, max size)",
    ("OPTIONS", "/api/v1/uploads/{upload_id}"): "tus discovery (version, extensions, max size)",
    ("GET", "/api/v1/audit/log-key"): "the audit log's public key: witnesses and auditors pin it",
    ("GET", "/api/v1/audit/checkpoint"): "the latest signed tree head: a size and a hash, signed",
    ("GET", "/"): "web UI: redirects to /inbox (which needs a session), no data",
    ("GET", "/login"): "web UI sign-in page: a form, no data",
    ("GET", "/login/sso"): "web UI: where an SSO sign-in lands, then the inbox; no data",
    ("GET", "/enrol"): "web UI enrolment page: a form (the token stays in the #fragment), no data",
    (
        "GET",
        "/static/{name}",
    ): "web UI bundle, hashing worker, style sheet (fixed names), no data",
    ("GET", "/p/{transfer_id}"): "patient link page: the same passphrase form for any id",
    (
        "GET",
        "/api/v1/links/{transfer_id}",
    ): "patient link: ciphertext metadata of a sealed passphrase transfer only (404 otherwise)",
    (
        "GET",
        "/api/v1/links/{transfer_id}/content",
    ): "patient link: the passphrase-encrypted age file, counted against its download limit",
}

# Web UI pages that need a session: 303 to /login without one (see the module docstring).
SESSION_PAGES: dict[tuple[str, str], str] = {
    ("GET", "/identity"): "create or unlock the wrapped browser identity",
    ("GET", "/inbox"): "received transfers",
    ("GET", "/sent"): "sent transfers",
    ("GET", "/send"): "the send form",
    ("GET", "/transfers/{transfer_id}"): "one transfer",
    ("GET", "/passkeys"): "the caller's passkeys (names and dates); add and remove go to the API",
    ("GET", "/keys"): "the caller's fingerprint; correspondents' pins are the browser's own",
    ("GET", "/admin"): "an org admin's landing page (403 page for a non-admin)",
    ("GET", "/admin/users"): "an org admin's members table; changes go to /api/v1/admin",
    ("GET", "/admin/policy"): "an org admin's policy forms; changes go to /api/v1/admin",
    ("GET", "/admin/audit"): "oversight: the admin's organisation's audit events",
    ("GET", "/admin/retention"): "oversight: expiry settings and the organisation's counts",
    ("GET", "/admin/orgs"): "oversight (operator): the organisations and the create form",
    ("GET", "/admin/breach"): "oversight (operator): the breach register",
    ("GET", "/admin/breach/{assessment_id}"): "oversight (operator): one breach assessment",
}

_PREFIX_OF_PARAM = {
    "transfer_id": "tr",
    "upload_id": "up",
    "user_id": "usr",
    "token_id": "tok",
    "passkey_id": "pk",
    "assessment_id": "br",
}
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def _walk(routes: list[Any], prefix: str, found: set[tuple[str, str]]) -> None:
    for route in routes:
        if isinstance(route, Route):
            for method in route.methods or ():
                found.add((method, prefix + route.path))
            continue
        # An included router (FastAPI keeps the original router and its include prefix).
        original = getattr(route, "original_router", None)
        assert original is not None, f"unexpected route kind {type(route).__name__}"
        _walk(original.routes, prefix + route.include_context.prefix, found)


def _inventory(app: FastAPI) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    _walk(list(app.routes), "", found)
    return found


def _concrete(path: str) -> str:
    return _PARAM.sub(lambda m: new_id(_PREFIX_OF_PARAM.get(m.group(1), "tr")), path)


def _app(client: TestClient) -> FastAPI:
    app = client.app
    assert isinstance(app, FastAPI)
    return app


def test_every_non_public_route_requires_a_token(client: TestClient, services: Services) -> None:
    routes = _inventory(_app(client))
    protected = sorted(routes - PUBLIC.keys() - SESSION_PAGES.keys())
    assert len(protected) >= 12  # the inventory really found the API
    # A realistic tus request shape, so the answer is about credentials, not the protocol.
    headers = {
        "Tus-Resumable": "1.0.0",
        "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": "0",
        "Upload-Length": "10",
    }
    failures = []
    for method, template in protected:
        for auth in (None, "Bearer ", "Bearer tok_" + "a" * 40, "Basic dXNlcjpwYXNz"):
            sent = dict(headers)
            if auth is not None:
                sent["Authorization"] = auth
            response = client.request(method, _concrete(template), headers=sent, content=b"x")
            if response.status_code != 401:
                failures.append((method, template, auth, response.status_code))
            elif method != "HEAD":
                assert response.json()["error"]["code"] == "authentication_required"
                assert response.headers["www-authenticate"] == "Bearer"
    assert failures == []


def test_public_routes_are_not_stale(client: TestClient) -> None:
    routes = _inventory(_app(client))
    stale = sorted((set(PUBLIC) | set(SESSION_PAGES)) - routes)
    assert stale == [], "PUBLIC or SESSION_PAGES lists routes the app no longer has"


def test_session_pages_redirect_to_login_without_a_session(client: TestClient) -> None:
    from scelle.server.oversight_web import SESSION_PAGES as OVERSIGHT
    from scelle.server.web import SESSION_PAGES as DECLARED

    assert {path for _, path in SESSION_PAGES} == set(DECLARED) | set(OVERSIGHT)
    attempts: list[dict[str, str]] = [
        {},
        {"Cookie": "scelle_session=" + "a" * 43},
        {"Authorization": "Bearer tok_" + "a" * 40},
    ]
    for method, template in sorted(SESSION_PAGES):
        path = _concrete(template)
        for headers in attempts:
            client.cookies.clear()
            response = client.request(method, path, headers=headers, follow_redirects=False)
            assert response.status_code == 303, (path, headers, response.status_code)
            assert response.headers["location"] == "/login?next=" + path
            assert response.content == b""
            assert response.headers["cache-control"] == "no-store"


def test_public_routes_answer_without_a_token(client: TestClient) -> None:
    for method, template in sorted(PUBLIC):
        response = client.request(method, _concrete(template))
        # The body-authenticated ones refuse a missing body (422), never 401 or 5xx.
        assert response.status_code < 500, (method, template)
        assert response.status_code != 401, (method, template)

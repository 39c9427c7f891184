"""Security headers and cookie flags on every answer of every route, taken from the app.

The routes are enumerated from the app itself (API routes, web pages, static
files under any mount), so a page added later is covered without editing
this file. Each route is called with every method it declares and one it
does not (405), anonymously, with an API token and with a web session, with
an empty and a malformed body; unknown paths (404), malformed bodies (422)
and a throttled login (429) are included. Every answer must carry the
security headers, and every ``Set-Cookie`` must be ``Secure``, ``HttpOnly``,
``SameSite=Strict``, with a ``Path`` and without a ``Domain``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from scelle.config import Settings
from scelle.db.models import Role
from scelle.ids import new_id
from scelle.server.app import create_app
from scelle.server.container import Services
from scelle.server.middleware import CSP_EXEMPT
from tests import factories
from tests.factories import PASSWORD

HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'"
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
_PREFIX_OF_PARAM = {"transfer_id": "tr", "upload_id": "up", "user_id": "usr", "token_id": "tok"}
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@pytest.fixture
def settings(tmp_path: Path, store_env: dict[str, str]) -> Settings:
    # Production shape: served over https (cookies get Secure); a tight login
    # limit per address so that a 429 is reached in a few attempts.
    return Settings(
        data=tmp_path / "data",
        public_url="https://scelle.example.org",
        throttle_login_ip="8/minute",
    )


@pytest.fixture
def https_client(services: Services) -> Iterator[TestClient]:
    app = create_app(services=services)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


def _walk(routes: list[Any], prefix: str, found: list[tuple[str, set[str], Any]]) -> None:
    for route in routes:
        if isinstance(route, Route):
            found.append((prefix + route.path, set(route.methods or ()), route))
        elif isinstance(route, WebSocketRoute):
            continue
        elif isinstance(route, Mount):
            if isinstance(route.app, StaticFiles):
                found.append((prefix + route.path, {"GET", "HEAD"}, route.app))
            else:
                _walk(list(route.routes), prefix + route.path, found)
        else:
            original = getattr(route, "original_router", None)
            assert original is not None, f"unexpected route kind {type(route).__name__}"
            _walk(original.routes, prefix + route.include_context.prefix, found)


def _inventory(app: FastAPI) -> list[tuple[str, set[str], Any]]:
    found: list[tuple[str, set[str], Any]] = []
    _walk(list(app.routes), "", found)
    return found


def _static_files(prefix: str, static: StaticFiles) -> list[str]:
    """Every file a static mount serves, and a missing one (a 404 from the mount)."""
    paths = [f"{prefix}/no-such-file.js"]
    for directory in static.all_directories:
        root = Path(directory)
        paths += [
            f"{prefix}/{p.relative_to(root).as_posix()}" for p in root.rglob("*") if p.is_file()
        ]
    return paths


def _concrete(path: str) -> str:
    return _PARAM.sub(lambda m: new_id(_PREFIX_OF_PARAM.get(m.group(1), "tr")), path)


def _check(response: httpx.Response, what: str) -> list[str]:
    problems = []
    for name, value in HEADERS.items():
        if response.headers.get(name) != value:
            problems.append(
                f"{what} -> {response.status_code}: {name}={response.headers.get(name)!r}"
            )
    path = response.request.url.path
    csp = response.headers.get("content-security-policy")
    if path not in CSP_EXEMPT:
        content_type = response.headers.get("content-type", "")
        if csp is None or "frame-ancestors 'none'" not in csp or "unsafe-eval" in csp:
            problems.append(f"{what} -> {response.status_code}: content-security-policy={csp!r}")
        elif (
            not content_type.startswith("text/html") and path.startswith("/api/") and csp != API_CSP
        ):
            problems.append(f"{what} -> {response.status_code}: API answer with CSP {csp!r}")
    cache = response.headers.get("cache-control", "")
    if not cache or "public" in cache:
        problems.append(f"{what} -> {response.status_code}: cache-control={cache!r}")
    if not path.startswith("/static") and "no-store" not in cache:
        problems.append(f"{what} -> {response.status_code}: cache-control={cache!r}")
    if not response.headers.get("x-request-id"):
        problems.append(f"{what} -> {response.status_code}: no x-request-id")
    return problems


def _cookie_problems(response: httpx.Response, what: str) -> list[str]:
    problems = []
    for raw in response.headers.get_list("set-cookie"):
        attributes = {
            part.strip().split("=", 1)[0].lower(): part.strip() for part in raw.split(";")[1:]
        }
        missing = [a for a in ("secure", "httponly", "path") if a not in attributes]
        if attributes.get("samesite", "").lower() != "samesite=strict":
            missing.append("SameSite=Strict")
        if "domain" in attributes:
            missing.append("no Domain")
        if missing:
            problems.append(f"{what}: Set-Cookie {raw.split('=', 1)[0]} lacks {', '.join(missing)}")
    return problems


def test_every_route_answers_with_the_security_headers_and_strict_cookies(
    https_client: TestClient, services: Services
) -> None:
    client = https_client
    app = client.app
    assert isinstance(app, FastAPI)
    factories.org(services, "lab-x")
    member = factories.member(services, "lab-x", Role.SENDER, Role.RECIPIENT, Role.ADMIN)

    answers: list[tuple[str, httpx.Response]] = []

    def call(method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        response = client.request(method, path, **kwargs)
        answers.append((what, response))
        return response

    login = call(
        "POST",
        "/api/v1/auth/session",
        "web login",
        json={"email": member.email, "password": PASSWORD, "otp": member.recovery_codes[1]},
    )
    assert login.status_code == 200, login.text
    csrf = login.json()["csrf_token"]
    assert client.cookies, "the web login set no cookie"
    session_cookies = dict(client.cookies)
    client.cookies.clear()

    identities: dict[str, dict[str, Any]] = {
        "anonymous": {},
        "token": {"headers": {"Authorization": f"Bearer {member.token}"}},
        "session": {"headers": {"X-CSRF-Token": csrf}, "cookies": session_cookies},
    }
    inventory = _inventory(app)
    assert len(inventory) >= 30  # the walk really found the app's routes
    paths_called = 0
    for template, methods, endpoint in inventory:
        if isinstance(endpoint, StaticFiles):
            for path in _static_files(template, endpoint):
                call("GET", path, f"GET {path}")
                paths_called += 1
            continue
        path = _concrete(template)
        if path in {"/api/v1/auth/session"}:
            continue  # logging in and out is exercised on its own below
        not_allowed = next(m for m in ALL_METHODS if m not in methods)
        for method in [*sorted(methods), not_allowed]:
            for who, credentials in identities.items():
                for body in ({}, {"content": b"{not json"}):
                    extra = (
                        {"json": {}} if not body and method in {"POST", "PUT", "PATCH"} else body
                    )
                    if method in {"GET", "HEAD", "OPTIONS"} and body:
                        continue
                    client.cookies.clear()
                    kwargs = {**credentials, **extra}
                    if "cookies" in kwargs:
                        client.cookies.update(kwargs.pop("cookies"))
                    call(method, path, f"{method} {template} as {who}", **kwargs)
                    paths_called += 1
        client.cookies.clear()
    assert paths_called > 100

    for path in ("/no/such/route", "/api/v1/no-such", "/api/v1/transfers/../../etc/passwd"):
        call("GET", path, f"GET {path}")
    call(
        "POST",
        "/api/v1/auth/token",
        "malformed login",
        content=b"{",
        headers={"content-type": "application/json"},
    )
    throttled = None
    for attempt in range(20):
        wrong = {"email": f"nobody{attempt}@lab-x.test", "password": "wrong", "otp": "000000"}
        response = call("POST", "/api/v1/auth/session", "failed web login", json=wrong)
        if response.status_code == 429:
            throttled = response
            break
    assert throttled is not None, "the login was never throttled"
    assert throttled.headers.get("retry-after")

    # Log out with the session: the cookie is cleared with the same flags.
    client.cookies.update(session_cookies)
    logout = call("DELETE", "/api/v1/auth/session", "web logout", headers={"X-CSRF-Token": csrf})
    assert logout.status_code in {204, 429}, logout.text

    statuses = {response.status_code for _, response in answers}
    assert {200, 401, 404, 405, 422, 429} <= statuses, statuses
    assert not any(s >= 500 for s in statuses), statuses
    problems = [p for what, response in answers for p in _check(response, what)]
    assert problems == [], f"{len(problems)} answers without a header:\n" + "\n".join(problems[:30])
    cookies = [(what, r) for what, r in answers if r.headers.get_list("set-cookie")]
    assert {what for what, _ in cookies} >= {"web login"}, [w for w, _ in cookies]
    cookie_problems = [p for what, response in cookies for p in _cookie_problems(response, what)]
    assert cookie_problems == [], "\n".join(cookie_problems)

"""SSO with OpenID Connect: a real provider (npm oidc-provider) and forged tokens.

The happy path, PKCE and state run against oidc-provider started by the test
and driven with httpx through its login and consent forms. Tokens a real
provider would never issue (wrong audience, bad signature, ``alg: none``,
expired, another login's nonce, low ``acr``) come from a second, tiny
provider the test controls: discovery, JWKS and a token endpoint that
answers the ID token the test forged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlparse

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests import factories
from tests.integration.conftest import free_port

from scelle.config import Settings
from scelle.db.models import AuditEvent, OIDCIdentity, Role
from scelle.server.app import create_app
from scelle.server.container import Services, build_services

pytestmark = pytest.mark.integration

HERE = Path(__file__).parent / "oidc"
REDIRECT = "http://127.0.0.1:9/api/v1/auth/oidc/callback"
CLIENT_ID = "scelle-test"
SECRET = "client-secret-" + "x" * 20


def _app(tmp_path: Path, issuer: str, **extra: Any) -> tuple[TestClient, Services]:
    settings = Settings(
        data=tmp_path / "data",
        oidc_issuer=issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=SECRET,
        oidc_redirect_url=REDIRECT,
        **extra,
    )
    services = build_services(settings)
    return TestClient(create_app(services=services), raise_server_exceptions=False), services


# -- the real provider --------------------------------------------------------


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("oidc-provider is not installed: run scripts/setup.sh")
    port = free_port()
    process = subprocess.Popen(
        ["node", str(HERE / "provider.mjs"), str(port), REDIRECT, SECRET],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == "ready", line
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)
    process.stdout.close()


_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_INPUT = re.compile(r'<input[^>]*name="([^"]+)"(?:[^>]*value="([^"]*)")?', re.S)


def _drive(authorize_url: str, login: str) -> dict[str, str]:
    """Follow the provider's login and consent forms like a browser; return the callback query."""
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        response = browser.get(authorize_url)
        for _ in range(12):
            if response.status_code in (302, 303):
                location = urljoin(str(response.url), response.headers["location"])
                if location.startswith(REDIRECT):
                    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
                response = browser.get(location)
                continue
            match = _FORM.search(response.text)
            assert match, response.text[:500]
            fields = {name: value or "" for name, value in _INPUT.findall(match.group(2))}
            if "login" in fields:
                fields.update(login=login, password="anything")
            response = browser.post(urljoin(str(response.url), match.group(1)), data=fields)
    raise AssertionError("the provider never redirected back")


def _start(client: TestClient) -> str:
    answer = client.get("/api/v1/auth/oidc/start", follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def test_sso_login_with_a_real_provider(provider: str, tmp_path: Path) -> None:
    client, services = _app(tmp_path, provider)
    with client:
        factories.org(services, "lab")
        ana = factories.member(services, "lab", Role.SENDER, Role.RECIPIENT, email="ana@lab.test")
        url = _start(client)
        query = parse_qs(urlparse(url).query)
        assert query["code_challenge_method"] == ["S256"]
        assert len(query["state"][0]) >= 40
        assert len(query["nonce"][0]) >= 40
        back = _drive(url, "ana@lab.test")
        answer = client.get("/api/v1/auth/oidc/callback", params=back)
        assert answer.status_code == 200, answer.text
        token = answer.json()["token"]
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["email"] == ana.email
        assert sorted(me.json()["scopes"]) == ["receive", "send"]
        # The same callback again (a replayed state and code) is refused.
        assert client.get("/api/v1/auth/oidc/callback", params=back).status_code == 401
        # The account is bound to (iss, sub) now.
        with services.database.transaction() as session:
            (identity,) = session.scalars(select(OIDCIdentity)).all()
            assert (identity.issuer, identity.subject) == (provider, "ana@lab.test")
            assert identity.user_id == ana.user_id
            events = session.scalars(
                select(AuditEvent).where(AuditEvent.tag == "account:login:success")
            ).all()
            assert json.loads(events[-1].data)["factor"] == "oidc"
        # A second login uses the binding.
        again = client.get(
            "/api/v1/auth/oidc/callback", params=_drive(_start(client), "ana@lab.test")
        )
        assert again.status_code == 200
    services.database.dispose()


def test_a_login_without_pkce_or_with_another_verifier_or_state_is_refused(
    provider: str, tmp_path: Path
) -> None:
    client, services = _app(tmp_path, provider)
    with client:
        factories.org(services, "lab")
        factories.member(services, "lab", Role.SENDER, email="ana@lab.test")
        # Missing PKCE: the provider refuses the request, and so does Scellé.
        url = _start(client)
        stripped = re.sub(r"&code_challenge(_method)?=[^&]*", "", url)
        back = _drive(stripped, "ana@lab.test")
        assert "code" not in back
        assert back.get("error") == "invalid_request"
        assert client.get("/api/v1/auth/oidc/callback", params=back).status_code == 401
        # A challenge that is not this login's: the code cannot be redeemed with our verifier.
        url = _start(client)
        other = base64.urlsafe_b64encode(hashlib.sha256(b"attacker").digest()).decode().rstrip("=")
        forged = re.sub(r"code_challenge=[^&]*", f"code_challenge={other}", url)
        back = _drive(forged, "ana@lab.test")
        assert "code" in back
        assert client.get("/api/v1/auth/oidc/callback", params=back).status_code == 401
        # A wrong or missing state.
        back = _drive(_start(client), "ana@lab.test")
        assert (
            client.get("/api/v1/auth/oidc/callback", params={**back, "state": "x" * 43}).status_code
            == 401
        )
        assert (
            client.get("/api/v1/auth/oidc/callback", params={"code": back["code"]}).status_code
            == 401
        )
    services.database.dispose()


def _sso_link(client: TestClient) -> str:
    """The sign-in page's SSO link (the only way a person starts a web sign-in)."""
    page = client.get("/login")
    match = re.search(r'<a id="sso-login"[^>]*href="([^"]+)"', page.text)
    assert match, "no SSO link on the sign-in page"
    return match.group(1).replace("&amp;", "&")


def _web_start(client: TestClient) -> str:
    answer = client.get(_sso_link(client), follow_redirects=False)
    assert answer.status_code == 302, answer.text
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("scelle_oidc=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/api/v1/auth/oidc" in cookie
    return answer.headers["location"]


def test_web_sign_in_with_a_real_provider_ends_in_a_web_session(
    provider: str, tmp_path: Path
) -> None:
    client, services = _app(tmp_path, provider, oidc_provider_name="Pro Santé Connect")
    with client:
        factories.org(services, "lab")
        ana = factories.member(services, "lab", Role.SENDER, Role.RECIPIENT, email="ana@lab.test")
        assert "Se connecter avec Pro Santé Connect" in client.get("/login").text
        back = _drive(_web_start(client), "ana@lab.test")
        answer = client.get("/api/v1/auth/oidc/callback", params=back, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/login/sso"
        assert answer.headers["cache-control"] == "no-store"
        cookies = answer.headers.get_list("set-cookie")
        session_cookie = next(c for c in cookies if c.startswith("scelle_session="))
        assert "HttpOnly" in session_cookie
        assert "SameSite=strict" in session_cookie
        # The browser-binding cookie is cleared; no API token is handed out.
        assert any(c.startswith('scelle_oidc=""') or "Max-Age=0" in c for c in cookies)
        assert "tok_" not in answer.text
        # The landing page goes on to the inbox by itself (a same-site navigation).
        landing = client.get("/login/sso")
        assert landing.status_code == 200
        assert '<meta http-equiv="refresh" content="0; url=/identity?next=/inbox">' in landing.text
        inbox = client.get("/inbox", follow_redirects=False)
        assert inbox.status_code == 200, inbox.headers.get("location")
        assert f'data-user-id="{ana.user_id}"' in inbox.text
        # The session is a web session like a password login's: the API takes it too.
        assert client.get("/api/v1/me").json()["email"] == ana.email
        with services.database.transaction() as session:
            events = session.scalars(
                select(AuditEvent).where(AuditEvent.tag == "account:login:success")
            ).all()
            assert json.loads(events[-1].data) == {"factor": "oidc", "acr": "", "web": True}
            assert session.scalars(
                select(AuditEvent).where(AuditEvent.tag == "account:session:start")
            ).all()
        # The same callback again (the browser's back button) is refused, as a page.
        again = client.get(
            "/api/v1/auth/oidc/callback",
            params=back,
            headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
            follow_redirects=False,
        )
        assert again.status_code == 401
        assert again.headers["content-type"].startswith("text/html")
        assert again.headers["content-security-policy"]
        assert 'href="/login"' in again.text
        assert "Traceback" not in again.text
    services.database.dispose()


def test_a_web_sign_in_goes_on_to_the_local_page_asked_for_and_nowhere_else(
    provider: str, tmp_path: Path
) -> None:
    client, services = _app(tmp_path, provider)
    with client:
        factories.org(services, "lab")
        factories.member(services, "lab", Role.SENDER, email="ana@lab.test")
        # Not local: no cookie is set for them, and the landing page goes to the inbox.
        for hostile in ("//evil.example/x", "https://evil.example", "/a?b=c", "/../x", "/%2e"):
            answer = client.get(
                "/api/v1/auth/oidc/start",
                params={"mode": "web", "next": hostile},
                follow_redirects=False,
            )
            assert answer.status_code == 302, hostile
            assert not any(
                c.startswith("scelle_oidc_next=") for c in answer.headers.get_list("set-cookie")
            ), hostile
            landing = client.get("/login/sso", params={"next": hostile})
            assert "url=/identity?next=/inbox" in landing.text, hostile
        client.cookies.clear()
        started = client.get(
            "/api/v1/auth/oidc/start",
            params={"mode": "web", "next": "/transfers/tr_abc"},
            follow_redirects=False,
        )
        back = _drive(started.headers["location"], "ana@lab.test")
        answer = client.get("/api/v1/auth/oidc/callback", params=back, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/login/sso?next=/transfers/tr_abc"
        cleared = [c for c in answer.headers.get_list("set-cookie") if "scelle_oidc_next=" in c]
        assert cleared
        assert all("Max-Age=0" in c for c in cleared)
        landing = client.get(answer.headers["location"])
        assert 'content="0; url=/identity?next=/transfers/tr_abc"' in landing.text
    services.database.dispose()


def test_a_web_sign_in_finishes_only_in_the_browser_that_started_it(
    provider: str, tmp_path: Path
) -> None:
    """A web sign-in's callback URL is worth nothing elsewhere (login CSRF, a leaked URL)."""
    client, services = _app(tmp_path, provider)
    with client:
        factories.org(services, "lab")
        factories.member(services, "lab", Role.SENDER, email="ana@lab.test")
        # The attacker starts a web sign-in and logs in at the provider as themself ...
        back = _drive(_web_start(client), "ana@lab.test")
        # ... then sends the callback URL to a victim's browser (no scelle_oidc cookie).
        with TestClient(client.app, raise_server_exceptions=False) as victim:
            refused = victim.get("/api/v1/auth/oidc/callback", params=back)
            assert refused.status_code == 401
            assert refused.json()["error"]["code"] == "invalid_credentials"
            assert "scelle_session" not in refused.headers.get("set-cookie", "")
            # Another browser's cookie does not match either.
            _web_start(victim)
            back = _drive(_web_start(client), "ana@lab.test")
            other = victim.get("/api/v1/auth/oidc/callback", params=back, follow_redirects=False)
            assert other.status_code == 401
            assert other.headers["content-type"].startswith("text/html")
        # The refused state is spent: the browser that started it cannot use it any more.
        assert client.get("/api/v1/auth/oidc/callback", params=back).status_code == 401
        with services.database.transaction() as session:
            reasons = [
                json.loads(e.data).get("detail")
                for e in session.scalars(
                    select(AuditEvent).where(AuditEvent.tag == "account:login:failure")
                )
            ]
        assert reasons.count("web sign-in from another browser") == 2
        # A bad mode is a clear 422, never a 500.
        bad = client.get("/api/v1/auth/oidc/start?mode=cookie", follow_redirects=False)
        assert bad.status_code == 422
        assert bad.json()["error"]["code"] == "invalid_input"
    services.database.dispose()


# -- a provider whose tokens the test forges ----------------------------------


class FakeProvider:
    def __init__(self) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.id_token = ""
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def _json(self, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    self._json(
                        {
                            "issuer": outer.issuer,
                            "authorization_endpoint": outer.issuer + "/auth",
                            "token_endpoint": outer.issuer + "/token",
                            "jwks_uri": outer.issuer + "/jwks",
                        }
                    )
                else:
                    self._json(outer.jwks)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self._json({"id_token": outer.id_token, "token_type": "Bearer"})

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sign(self, claims: dict[str, Any], *, key: Any = None, alg: str = "RS256") -> str:
        return jwt.encode(claims, key or self.key, algorithm=alg, headers={"kid": "k1"})


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    provider = FakeProvider()
    yield provider
    provider.server.shutdown()
    provider.server.server_close()


@pytest.fixture
def forged(
    fake: FakeProvider, tmp_path: Path
) -> Iterator[Callable[[Callable[[dict[str, Any]], str]], int]]:
    client, services = _app(
        tmp_path, fake.issuer, oidc_required_acr="eidas2", oidc_acr_order="eidas1 eidas2 eidas3"
    )
    with client:
        factories.org(services, "lab")
        factories.member(services, "lab", Role.SENDER, email="ana@lab.test")

        def attempt(make_token: Callable[[dict[str, Any]], str]) -> int:
            url = _start(client)
            state = parse_qs(urlparse(url).query)["state"][0]
            nonce = parse_qs(urlparse(url).query)["nonce"][0]
            now = int(time.time())
            claims = {
                "iss": fake.issuer,
                "aud": CLIENT_ID,
                "sub": "psc-123",
                "email": "ana@lab.test",
                "email_verified": True,
                "iat": now,
                "exp": now + 300,
                "nonce": nonce,
                "acr": "eidas2",
            }
            fake.id_token = make_token(claims)
            answer = client.get(
                "/api/v1/auth/oidc/callback", params={"code": secrets.token_hex(8), "state": state}
            )
            return answer.status_code

        yield attempt
    services.database.dispose()


def test_a_well_formed_forged_provider_token_is_accepted(
    forged: Callable[[Callable[[dict[str, Any]], str]], int], fake: FakeProvider
) -> None:
    """The control case: the fake provider is honest, so the checks below are meaningful."""
    assert forged(fake.sign) == 200
    assert forged(lambda c: fake.sign({**c, "acr": "eidas3"})) == 200


def _none_token(claims: dict[str, Any]) -> str:
    def part(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': 'k1'})}.{part(claims)}."


@pytest.mark.parametrize(
    "case",
    [
        "wrong_aud",
        "wrong_iss",
        "bad_signature",
        "alg_none",
        "alg_hs256_with_public_key",
        "expired",
        "other_nonce",
        "no_nonce",
        "acr_too_low",
        "no_acr",
        "unverified_email",
        "garbage",
    ],
)
def test_forged_id_tokens_are_refused(
    forged: Callable[[Callable[[dict[str, Any]], str]], int], fake: FakeProvider, case: str
) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = fake.key.public_key().public_bytes(
        encoding=__import__("cryptography").hazmat.primitives.serialization.Encoding.PEM,
        format=__import__(
            "cryptography"
        ).hazmat.primitives.serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    makers: dict[str, Callable[[dict[str, Any]], str]] = {
        "wrong_aud": lambda c: fake.sign({**c, "aud": "another-client"}),
        "wrong_iss": lambda c: fake.sign({**c, "iss": "http://127.0.0.1:1"}),
        "bad_signature": lambda c: fake.sign(c, key=other_key),
        "alg_none": _none_token,
        "alg_hs256_with_public_key": lambda c: _hs256(c, public_pem),
        "expired": lambda c: fake.sign({**c, "iat": c["iat"] - 7200, "exp": c["iat"] - 3600}),
        "other_nonce": lambda c: fake.sign({**c, "nonce": secrets.token_urlsafe(32)}),
        "no_nonce": lambda c: fake.sign({k: v for k, v in c.items() if k != "nonce"}),
        "acr_too_low": lambda c: fake.sign({**c, "acr": "eidas1"}),
        "no_acr": lambda c: fake.sign({k: v for k, v in c.items() if k != "acr"}),
        "unverified_email": lambda c: fake.sign({**c, "email_verified": False}),
        "garbage": lambda c: "not.a.jwt",
    }
    assert forged(makers[case]) == 401


def _hs256(claims: dict[str, Any], secret: bytes) -> str:
    def part(obj: object) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=")

    import hmac as hmac_module

    signing_input = part({"alg": "HS256", "typ": "JWT", "kid": "k1"}) + b"." + part(claims)
    mac = hmac_module.new(secret, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()


def test_a_replayed_nonce_is_refused(
    forged: Callable[[Callable[[dict[str, Any]], str]], int], fake: FakeProvider
) -> None:
    """A token captured from one login does not open another (its nonce was that login's)."""
    captured: dict[str, str] = {}

    def first(claims: dict[str, Any]) -> str:
        captured["token"] = fake.sign(claims)
        return captured["token"]

    assert forged(first) == 200
    assert forged(lambda _c: captured["token"]) == 401


def test_sso_is_off_without_configuration(client: TestClient) -> None:
    assert client.get("/api/v1/auth/oidc/start", follow_redirects=False).status_code == 404
    assert client.get("/api/v1/auth/oidc/callback?state=x&code=y").status_code == 404
    web = client.get("/api/v1/auth/oidc/start?mode=web", follow_redirects=False)
    assert web.status_code == 404
    assert web.headers["content-type"].startswith("text/html")

"""The web UI's pages: strict CSP, SRI on the very bytes served, no inline script, languages.

And the wrapped browser identity API: the server stores only what is an age
file to one passphrase (scrypt) stanza, for its owner only.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from scelle.config import Settings
from scelle.crypto.age.encrypt import encrypt_bytes
from scelle.crypto.age.identity import X25519Identity
from scelle.crypto.age.recipients import ScryptRecipient
from scelle.db.models import Role
from scelle.server.container import Services, build_services
from scelle.server.web import PAGE_CSP
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.integration


def _session(client: TestClient, member: factories.Member) -> str:
    response = client.post(
        "/api/v1/auth/session",
        json={"email": member.email, "password": PASSWORD, "otp": member.recovery_codes[0]},
    )
    assert response.status_code == 200, response.text
    csrf: str = response.json()["csrf_token"]
    return csrf


def test_login_page_headers_csp_and_sri(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == PAGE_CSP
    assert "default-src 'self'" in PAGE_CSP
    assert "unsafe" not in PAGE_CSP
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in response.headers  # not behind TLS here
    html = response.text
    # No inline script: every <script> either loads /static/app.js or is a JSON data block.
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'src="/static/app.js"' in tag or 'type="application/json"' in tag, tag
    # No third-party host anywhere in the page.
    assert re.findall(r"(?:src|href)=\"(?:https?:)?//", html) == []
    match = re.search(r'<script type="module" src="/static/app.js" integrity="([^"]+)"', html)
    assert match is not None, "the bundle is not built: run scripts/setup.sh"
    bundle = client.get("/static/app.js")
    assert bundle.status_code == 200
    assert bundle.headers["content-type"].startswith("text/javascript")
    digest = base64.b64encode(hashlib.sha384(bundle.content).digest()).decode()
    assert match.group(1) == "sha384-" + digest
    css = re.search(r'href="/static/app.css" integrity="([^"]+)"', html)
    assert css is not None
    sheet = client.get("/static/app.css").content
    assert css.group(1) == "sha384-" + base64.b64encode(hashlib.sha384(sheet).digest()).decode()
    # Only the two fixed names are served; nothing else of the package.
    for name in ("web.py", "..%2Fweb.py", "app.js.map", "../templates/base.html"):
        assert client.get(f"/static/{name}").status_code == 404


def test_french_by_default_english_by_choice_or_browser(client: TestClient) -> None:
    assert '<html lang="fr">' in client.get("/login").text
    assert "Connexion" in client.get("/login").text
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in english.text
    assert "Sign in" in english.text
    chosen = client.get("/login?lang=en")
    assert '<html lang="en">' in chosen.text
    assert "scelle_lang=en" in chosen.headers["set-cookie"]
    client.cookies.clear()
    odd = client.get("/login?lang=xx", headers={"Accept-Language": "de-DE"})
    assert '<html lang="fr">' in odd.text


def test_hsts_on_pages_behind_tls(services: Services) -> None:
    services.settings.public_url = "https://scelle.example"
    from scelle.server.app import create_app

    with TestClient(create_app(services=services)) as https_client:
        response = https_client.get("/login")
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_pages_with_a_session_carry_the_csrf_token_and_no_store(
    client: TestClient, services: Services
) -> None:
    factories.org(services, "lab-p")
    ana = factories.member(services, "lab-p", Role.SENDER, Role.RECIPIENT, publish_key=False)
    csrf = _session(client, ana)
    for path in ("/inbox", "/sent", "/send", "/identity", "/passkeys"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert f'<meta name="scelle-csrf" content="{csrf}">' in response.text
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["content-security-policy"] == PAGE_CSP
    # A transfer id that is not the caller's: an HTML 404, never a 500 or a JSON trace.
    missing = client.get("/transfers/tr_" + "a" * 26)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "Traceback" not in missing.text


def _wrapped(passphrase: str) -> str:
    document = b'{"v":1,"identity":"' + str(X25519Identity.generate()).encode() + b'"}'
    data = encrypt_bytes(document, [ScryptRecipient(passphrase, log_n=10)])
    return base64.b64encode(data).decode()


def test_wrapped_identity_is_stored_only_as_a_passphrase_age_file(
    client: TestClient, services: Services
) -> None:
    factories.org(services, "lab-q")
    ana = factories.member(services, "lab-q", Role.SENDER, publish_key=False)
    bob = factories.member(services, "lab-q", Role.SENDER, publish_key=False)
    ana_auth = {"Authorization": f"Bearer {ana.token}"}
    assert client.get("/api/v1/keys/me/wrapped", headers=ana_auth).status_code == 404

    identity = X25519Identity.generate()
    refused = {
        "plaintext key": base64.b64encode(str(identity).encode()).decode(),
        "age to a public key": base64.b64encode(encrypt_bytes(b"x", [identity.recipient])).decode(),
        "not base64": "***",
        "too large": base64.b64encode(b"age-encryption.org/v1\n" + b"a" * 9000).decode(),
    }
    for what, wrapped in refused.items():
        answer = client.put(
            "/api/v1/keys/me/wrapped",
            json={"wrapped": wrapped, "fingerprint": "ABCD EFGH"},
            headers=ana_auth,
        )
        assert answer.status_code == 422, what
        assert answer.json()["error"]["code"] == "invalid_input", what
    assert client.get("/api/v1/keys/me/wrapped", headers=ana_auth).status_code == 404

    first = _wrapped("une phrase assez longue")
    stored = client.put(
        "/api/v1/keys/me/wrapped",
        json={"wrapped": first, "fingerprint": "ABCD EFGH"},
        headers=ana_auth,
    )
    assert stored.status_code == 200
    fetched = client.get("/api/v1/keys/me/wrapped", headers=ana_auth).json()
    assert fetched["wrapped"] == first
    second = _wrapped("une autre phrase longue")
    client.put(
        "/api/v1/keys/me/wrapped",
        json={"wrapped": second, "fingerprint": "WXYZ 2345"},
        headers=ana_auth,
    )
    replaced = client.get("/api/v1/keys/me/wrapped", headers=ana_auth).json()
    assert (replaced["wrapped"], replaced["fingerprint"]) == (second, "WXYZ 2345")
    # Another user never sees it.
    bob_auth = {"Authorization": f"Bearer {bob.token}"}
    assert client.get("/api/v1/keys/me/wrapped", headers=bob_auth).status_code == 404


def test_recovery_copy_is_stored_only_as_an_age_file_to_one_recovery_key(
    client: TestClient, services: Services
) -> None:
    factories.org(services, "lab-rk")
    ana = factories.member(services, "lab-rk", Role.SENDER, publish_key=False)
    auth = {"Authorization": f"Bearer {ana.token}"}
    recovery_key = X25519Identity.generate()
    document = b'{"v":1,"identity":"' + str(X25519Identity.generate()).encode() + b'"}'
    wrapped = _wrapped("une phrase assez longue")
    recovery = base64.b64encode(encrypt_bytes(document, [recovery_key.recipient])).decode()
    stored = client.put(
        "/api/v1/keys/me/wrapped",
        json={"wrapped": wrapped, "fingerprint": "ABCD EFGH", "recovery": recovery},
        headers=auth,
    )
    assert stored.status_code == 200, stored.text
    assert stored.json()["recovery"] == recovery

    two_keys = [recovery_key.recipient, X25519Identity.generate().recipient]
    refused = {
        "to a passphrase": _wrapped("une phrase assez longue"),
        "to two keys": base64.b64encode(encrypt_bytes(document, two_keys)).decode(),
        "plaintext key": base64.b64encode(str(recovery_key).encode()).decode(),
        "not base64": "***",
    }
    for what, copy in refused.items():
        answer = client.put(
            "/api/v1/keys/me/wrapped",
            json={"wrapped": _wrapped("une autre phrase"), "fingerprint": "WXYZ", "recovery": copy},
            headers=auth,
        )
        assert answer.status_code == 422, what
        assert "recovery" in answer.json()["error"]["message"], what
    # Nothing changed: the first pair is still there, as stored.
    kept = client.get("/api/v1/keys/me/wrapped", headers=auth).json()
    assert (kept["wrapped"], kept["recovery"], kept["fingerprint"]) == (
        wrapped,
        recovery,
        "ABCD EFGH",
    )
    # A new identity stored without a recovery copy drops the old one (made for another key).
    client.put(
        "/api/v1/keys/me/wrapped",
        json={"wrapped": _wrapped("une autre phrase"), "fingerprint": "WXYZ"},
        headers=auth,
    ).raise_for_status()
    assert client.get("/api/v1/keys/me/wrapped", headers=auth).json()["recovery"] is None


def test_link_api_serves_passphrase_links_only(client: TestClient, services: Services) -> None:
    from tests.integration.test_transfers_api import send

    factories.org(services, "lab-l")
    factories.org(services, "cpam-l")
    ana = factories.member(services, "lab-l", Role.SENDER)
    bob = factories.member(services, "cpam-l", Role.RECIPIENT)
    account_transfer = send(client, ana, [bob], b"nir;result\n")
    # An account transfer is not a link, whoever asks.
    for path in (f"/api/v1/links/{account_transfer}", f"/api/v1/links/{account_transfer}/content"):
        assert client.get(path).status_code == 404
        assert client.get(path, headers={"Authorization": f"Bearer {bob.token}"}).status_code == 404
    assert client.get("/api/v1/links/not-an-id").status_code == 404
    # Recipients and a passphrase link exclude each other; one of the two is needed.
    base = {"payload_size": 10, "payload_sha256": "00" * 32, "metadata": "AAAA"}
    auth = {"Authorization": f"Bearer {ana.token}"}
    both = {
        **base,
        "passphrase_link": True,
        "recipients": [{"user_id": bob.user_id, "key_id": bob.key_id}],
    }
    for body in (base, both):
        answer = client.post("/api/v1/transfers", json=body, headers=auth)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "invalid_input"
    pending = client.post("/api/v1/transfers", json={**base, "passphrase_link": True}, headers=auth)
    assert pending.status_code == 201
    # A link is reachable only once sealed.
    assert client.get(f"/api/v1/links/{pending.json()['id']}").status_code == 404
    # The patient page is the same form for any id (it reveals nothing).
    known = client.get(f"/p/{pending.json()['id']}")
    unknown = client.get("/p/tr_" + "b" * 26)
    assert known.status_code == unknown.status_code == 200
    assert known.headers["content-security-policy"] == PAGE_CSP


def test_passkeys_page_lists_only_the_callers_passkeys(
    client: TestClient, services: Services
) -> None:
    from tests.webauthn_authenticator import SoftAuthenticator

    factories.org(services, "lab-k")
    ana = factories.member(services, "lab-k", Role.SENDER, publish_key=False)
    bob = factories.member(services, "lab-k", Role.SENDER, publish_key=False)
    names = {ana.email: "Poste d'Ana (bureau)", bob.email: "clé de Bob"}
    for member in (ana, bob):
        auth = {"Authorization": f"Bearer {member.token}"}
        begun = client.post("/api/v1/passkeys/register/begin", headers=auth).json()
        credential = SoftAuthenticator(services.settings.passkey_origin).create(begun["options"])
        finished = client.post(
            "/api/v1/passkeys/register/finish",
            json={
                "challenge_id": begun["challenge_id"],
                "credential": credential,
                "name": names[member.email],
            },
            headers=auth,
        )
        assert finished.status_code == 201, finished.text
    _session(client, ana)
    page = client.get("/passkeys")
    assert page.status_code == 200
    assert "Poste d&#39;Ana (bureau)" in page.text  # the user's text, autoescaped
    assert "clé de Bob" not in page.text
    assert page.text.count("data-remove-passkey=") == 1


def test_the_sso_button_shows_only_when_sso_is_configured(
    client: TestClient, tmp_path: Path
) -> None:
    page = client.get("/login").text
    assert 'id="sso-login"' not in page
    assert "/api/v1/auth/oidc/start" not in page
    from scelle.server.app import create_app

    settings = Settings(
        data=tmp_path / "sso-data",
        oidc_issuer="https://auth.esante.example/auth/realms/esante-wallet",
        oidc_client_id="scelle",
        oidc_redirect_url="https://scelle.example/api/v1/auth/oidc/callback",
    )
    services = build_services(settings)
    try:
        with TestClient(create_app(services=services)) as sso:
            french = sso.get("/login")
            assert french.headers["content-security-policy"] == PAGE_CSP
            link = re.search(r'<a id="sso-login"[^>]*href="([^"]+)"[^>]*>([^<]+)</a>', french.text)
            assert link is not None
            assert link.group(1) == "/api/v1/auth/oidc/start?mode=web"
            # Without a configured name, the provider is named by its host.
            assert link.group(2) == "Se connecter avec auth.esante.example"
            services.settings.oidc_provider_name = "Pro Santé <Connect>"
            english = sso.get("/login?lang=en").text
            assert "Sign in with Pro Santé &lt;Connect&gt;</a>" in english
            # Still no inline script with the button.
            for tag in re.findall(r"<script[^>]*>", english):
                assert 'src="/static/app.js"' in tag or 'type="application/json"' in tag, tag
    finally:
        services.database.dispose()

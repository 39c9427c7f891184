"""Passkeys and enrolment in a real browser: Chromium's virtual authenticator (CDP ``WebAuthn``).

The authenticator is a CTAP2 platform authenticator with user verification,
as a laptop's fingerprint reader; the browser makes and signs every answer
and the server verifies it with ``py_webauthn``. Chromium refuses an IP
address as the relying-party id, so this module's server is reached (and
configured) as ``http://localhost:PORT``.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import subprocess
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, CDPSession, Page, expect
from sqlalchemy import update

from scelle.accounts import passkeys
from scelle.accounts import repository as accounts_repository
from scelle.accounts import service as accounts_service
from scelle.crypto.age.identity import X25519Identity
from scelle.db.base import utcnow
from scelle.db.models import Role, WebSession
from scelle.keys import repository as keys_repository
from tests.e2e.conftest import (
    BROWSER_PASSPHRASE,
    RECOVERY_KEY,
    Orgs,
    keep_recovery_key,
    make_member,
    server_services,
    shot,
    sign_in,
)
from tests.factories import PASSWORD, Member, totp_code
from tests.integration.conftest import LiveServer, free_port, start_server, stop_server

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

_AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    port = free_port()
    origin = f"http://localhost:{port}"
    live = start_server(
        tmp_path_factory.mktemp("e2e-passkeys") / "server-data",
        port=port,
        extra_env={"SCELLE_PUBLIC_URL": origin},
    )
    yield dataclasses.replace(live, url=origin)
    stop_server(live)


class Authenticators:
    """The virtual authenticators of one tab: plug one in, unplug it, copy its passkeys."""

    def __init__(self, cdp: CDPSession) -> None:
        self.cdp = cdp
        cdp.send("WebAuthn.enable", {"enableUI": False})

    def plug(self, credentials: Sequence[dict[str, Any]] = ()) -> str:
        added = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": _AUTHENTICATOR})
        authenticator_id = str(added["authenticatorId"])
        for credential in credentials:
            self.cdp.send(
                "WebAuthn.addCredential",
                {"authenticatorId": authenticator_id, "credential": credential},
            )
        return authenticator_id

    def credentials(self, authenticator_id: str) -> list[dict[str, Any]]:
        answer = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
        found: list[dict[str, Any]] = answer["credentials"]
        return found

    def unplug(self, authenticator_id: str) -> None:
        self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator_id})


@pytest.fixture
def authenticators(context: BrowserContext, page: Page) -> Authenticators:
    return Authenticators(context.new_cdp_session(page))


def _age_web_sessions(server: LiveServer, user_id: str) -> None:
    """The user signed in 10 minutes ago: past the 5-minute window for passkey changes."""
    with server_services(server) as services, services.database.transaction() as session:
        session.execute(
            update(WebSession)
            .where(WebSession.user_id == user_id)
            .values(created_at=utcnow() - timedelta(minutes=10))
        )


def _require_passkeys(server: LiveServer, org: str, role: Role) -> None:
    with server_services(server) as services, services.database.transaction() as session:
        row = accounts_repository.org_by_name(session, org)
        assert row is not None
        passkeys.set_required_roles(session, services, row, {role})


def _passkey_sign_in(page: Page, member: Member) -> None:
    page.get_by_label("Adresse e-mail").fill(member.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter avec une clé d'accès").click()


def _reauthenticate(page: Page, code: str) -> None:
    form = page.locator("#reauth-form")
    expect(form).to_be_visible()
    expect(page.locator("#form-status")).to_have_text("Confirmez que c'est vous pour continuer.")
    form.get_by_label("Mot de passe").fill(PASSWORD)
    form.get_by_label("Code à usage unique").fill(code)
    form.get_by_role("button", name="Confirmer").click()


def _has_session(context: BrowserContext) -> bool:
    return any(c["name"] == "scelle_session" for c in context.cookies())


def test_a_passkey_added_in_the_page_signs_in_until_it_is_removed(
    server: LiveServer,
    orgs: Orgs,
    page: Page,
    context: BrowserContext,
    authenticators: Authenticators,
) -> None:
    bob = make_member(server, orgs.cpam, Role.RECIPIENT, publish_key=False)
    laptop = authenticators.plug()
    sign_in(page, server, bob, bob.recovery_codes[0])  # the browser identity is another test's

    # A fresh login: the passkey is added without asking for the password again.
    page.get_by_role("link", name="Clés d'accès").click()
    page.wait_for_url("**/passkeys")
    expect(page.locator("#passkey-empty")).to_have_text("Aucune clé d'accès pour le moment.")
    # A name the server would refuse is refused before the authenticator is asked.
    page.get_by_label("Nom de la clé").fill("<b>portable</b>")
    page.get_by_role("button", name="Ajouter une clé d'accès").click()
    expect(page.locator("#form-error")).to_contain_text("64 caractères au plus")
    assert authenticators.credentials(laptop) == []
    page.get_by_label("Nom de la clé").fill("Ordinateur du cabinet")
    page.get_by_role("button", name="Ajouter une clé d'accès").click()
    expect(page.locator("#form-status")).to_have_text("Clé d'accès ajoutée.")
    row = page.get_by_role("row", name=re.compile("Ordinateur du cabinet"))
    expect(row).to_contain_text("jamais")
    assert len(authenticators.credentials(laptop)) == 1

    # Sign out, then password + passkey (no code) opens the session and the inbox.
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/login")
    assert not _has_session(context)
    _passkey_sign_in(page, bob)
    page.wait_for_url("**/identity?next=*")
    page.get_by_role("link", name="Reçus").click()
    page.wait_for_url("**/inbox")
    expect(page.get_by_role("heading", level=1)).to_have_text("Fichiers reçus")
    page.get_by_role("link", name="Clés d'accès").click()
    expect(row).not_to_contain_text("jamais")  # its last use is shown

    # Ten minutes later: a second passkey (another device) needs the password and a code.
    _age_web_sessions(server, bob.user_id)
    kept = authenticators.credentials(laptop)
    authenticators.unplug(laptop)
    phone = authenticators.plug()
    page.get_by_label("Nom de la clé").fill("Téléphone")
    page.get_by_role("button", name="Ajouter une clé d'accès").click()
    _reauthenticate(page, "000000")  # a wrong code: refused, the form stays for another try
    expect(page.locator("#form-error")).to_have_text("Identifiants ou code incorrects.")
    assert authenticators.credentials(phone) == []
    page.locator("#reauth-form").get_by_label("Mot de passe").fill(PASSWORD)
    page.locator("#reauth-form").get_by_label("Code à usage unique").fill(bob.recovery_codes[1])
    page.locator("#reauth-form").get_by_role("button", name="Confirmer").click()
    expect(page.locator("#form-status")).to_have_text("Clé d'accès ajoutée.")
    expect(page.locator("#passkey-table tbody tr")).to_have_count(2)
    shot(page, "passkeys")

    # Removing the first one asks again (the code was spent), then it is gone.
    page.get_by_role("button", name="Supprimer Ordinateur du cabinet").click()
    _reauthenticate(page, bob.recovery_codes[2])
    expect(page.locator("#form-status")).to_have_text("Clé d'accès supprimée.")
    expect(page.locator("#passkey-table tbody tr")).to_have_count(1)
    expect(page.get_by_role("row", name=re.compile("Téléphone"))).to_be_visible()

    # The laptop still holds the removed passkey: it no longer signs in.
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/login")
    authenticators.unplug(phone)
    authenticators.plug(kept)
    _passkey_sign_in(page, bob)
    expect(page.locator("#form-error")).to_have_text(
        "La clé d'accès n'a pas été utilisée (annulation, délai dépassé, ou aucune clé "
        "d'accès de ce compte sur cet appareil)."
    )
    assert page.url.endswith("/login")
    assert not _has_session(context)


def test_a_role_that_requires_passkeys_enrols_one_at_sign_in(
    server: LiveServer, orgs: Orgs, page: Page, authenticators: Authenticators
) -> None:
    # This tab has no parse*FromJSON / toJSON: the bundle's own conversion is used.
    page.add_init_script(
        "delete PublicKeyCredential.parseCreationOptionsFromJSON;"
        "delete PublicKeyCredential.parseRequestOptionsFromJSON;"
        "delete PublicKeyCredential.prototype.toJSON;"
    )
    sam = make_member(server, orgs.lab, Role.SENDER, publish_key=False)
    _require_passkeys(server, orgs.lab, Role.SENDER)
    authenticators.plug()
    page.goto(server.url + "/inbox")
    page.wait_for_url("**/login?next=/inbox")
    page.get_by_label("Adresse e-mail").fill(sam.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_label("Code à usage unique").fill(sam.recovery_codes[0])
    page.get_by_role("button", name="Se connecter", exact=True).click()

    # No session from the code: only the enrolment of one passkey, done in the page.
    enrol = page.locator("#passkey-enrol")
    expect(enrol.get_by_role("heading")).to_have_text("Votre rôle exige une clé d'accès")
    shot(page, "passkey-enrol")
    enrol.get_by_label("Nom de la clé").fill("Poste de Sam")
    enrol.get_by_role("button", name="Enregistrer une clé d'accès sur cet appareil").click()
    expect(page.locator("#form-status")).to_have_text(
        "Clé d'accès enregistrée. Connectez-vous maintenant avec elle."
    )
    expect(enrol).to_be_hidden()

    # A code no longer signs in; the passkey does.
    page.get_by_label("Code à usage unique").fill(sam.recovery_codes[1])
    page.get_by_role("button", name="Se connecter", exact=True).click()
    expect(page.locator("#form-error")).to_have_text(
        "Votre rôle exige une clé d'accès : connectez-vous avec elle."
    )
    page.get_by_role("button", name="Se connecter avec une clé d'accès").click()
    page.wait_for_url("**/identity?next=*")
    page.goto(server.url + "/passkeys")
    expect(page.get_by_role("row", name=re.compile("Poste de Sam"))).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text("la dernière ne peut pas être supprimée")
    page.get_by_role("button", name="Supprimer Poste de Sam").click()
    expect(page.locator("#form-error")).to_contain_text("C'est votre dernière clé d'accès")
    page.reload()
    expect(page.get_by_role("row", name=re.compile("Poste de Sam"))).to_be_visible()


# -- enrolment: the one-time token, password, TOTP and recovery codes, a passkey, the key ----


def _pending(server: LiveServer, org: str, role: Role) -> tuple[str, str]:
    """A user an admin just created: (e-mail, one-time enrolment token)."""
    email = f"new-{next(_pending_names)}@{org}.example"
    with server_services(server) as services, services.database.transaction() as session:
        _, token = accounts_service.create_user(
            session, services, email, org_name=org, roles={role}
        )
    return email, token


_pending_names = itertools.count(1)


def _enrol_until_passkey(page: Page, server: LiveServer, token: str, *, screenshots: bool) -> None:
    """The enrolment page up to its passkey step: token from the link, password, first code."""
    page.goto(f"{server.url}/enrol#token={token}")
    # The token came in the fragment (never sent) and leaves the address bar at once.
    expect(page.get_by_label("Code d'inscription")).to_have_value(token)
    assert token not in page.url
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_label("Confirmez le mot de passe").fill(PASSWORD + "x")
    page.get_by_role("button", name="Continuer").click()
    expect(page.locator("#form-error")).to_have_text("Les deux mots de passe diffèrent.")
    page.get_by_label("Confirmez le mot de passe").fill(PASSWORD)
    if screenshots:
        shot(page, "enrol")
    page.get_by_role("button", name="Continuer").click()

    factors = page.locator("#enrol-factors")
    expect(factors).to_be_visible()
    codes = factors.locator("#recovery-codes li")
    expect(codes).to_have_count(accounts_service.RECOVERY_CODES)
    secret = factors.locator("#totp-secret").inner_text().replace(" ", "")
    if screenshots:
        shot(page, "enrol-factors")
    # The codes are confirmed as kept before anything goes on.
    factors.get_by_label("Code à 6 chiffres").fill(totp_code(secret))
    factors.get_by_role("button", name="Valider et me connecter").click()
    expect(page.locator("#form-error")).to_have_text(
        "Confirmez que vous avez conservé vos codes de secours."
    )
    factors.get_by_label("J'ai conservé mes codes de secours").check()
    factors.get_by_role("button", name="Valider et me connecter").click()
    expect(page.locator("#enrol-passkey")).to_be_visible()
    expect(factors).to_be_hidden()


def _age_decrypt(data: bytes, key: str, tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    """The reference age tool, with the recovery key as the identity file the page offers."""
    key_file = tmp_path / "recovery.txt"
    key_file.write_text(f"# a recovery key as downloaded from the page\n{key}\n")
    return subprocess.run(
        ["age", "--decrypt", "-i", str(key_file)],
        input=data,
        capture_output=True,
        check=False,
    )


def _stored_copies(server: LiveServer, email: str) -> tuple[bytes, bytes | None, str]:
    """What the server keeps: (passphrase copy, recovery copy, published X25519 recipient)."""
    with server_services(server) as services, services.database.transaction() as session:
        user = accounts_repository.user_by_email(session, email)
        assert user is not None
        row = keys_repository.wrapped_identity(session, user.id)
        key = keys_repository.current_key(session, user.id)
        assert row is not None
        assert key is not None
        return row.wrapped, row.recovery_wrapped, key.x25519_recipient


def test_enrolment_in_the_page_sets_the_factors_a_passkey_and_a_recovery_key(
    server: LiveServer, orgs: Orgs, page: Page, authenticators: Authenticators, tmp_path: Path
) -> None:
    email, token = _pending(server, orgs.cpam, Role.RECIPIENT)
    laptop = authenticators.plug()
    _enrol_until_passkey(page, server, token, screenshots=True)

    # Optional for this role: offered, and registered here with the session just opened.
    expect(page.locator("#enrol-passkey-optional")).to_be_visible()
    page.get_by_label("Nom de la clé").fill("Portable de l'analyste")
    page.get_by_role("button", name="Enregistrer une clé d'accès").click()
    page.wait_for_url("**/identity?next=/inbox")
    assert len(authenticators.credentials(laptop)) == 1

    # The browser key, with its recovery key shown once.
    page.get_by_label("Phrase secrète", exact=True).fill(BROWSER_PASSPHRASE)
    page.get_by_label("Confirmez la phrase secrète").fill(BROWSER_PASSPHRASE)
    page.get_by_role("button", name="Créer ma clé").click()
    expect(page.locator("#recovery-key")).to_have_text(RECOVERY_KEY)
    page.get_by_role("button", name="Continuer").click()
    expect(page.locator("#form-error")).to_have_text(
        "Confirmez que vous avez conservé votre clé de secours."
    )
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger la clé de secours").click()
    key_file = download.value.path().read_text()
    recovery_key = keep_recovery_key(page, screenshot="recovery-key")
    assert recovery_key in key_file.splitlines()

    # The server keeps two age files it cannot open; the recovery key opens one of them
    # with the reference age tool, and what is inside is the published key's identity.
    wrapped, recovery, published = _stored_copies(server, email)
    assert recovery is not None
    assert recovery_key.encode() not in wrapped + recovery
    opened = _age_decrypt(recovery, recovery_key, tmp_path)
    assert opened.returncode == 0, opened.stderr
    inside = json.loads(opened.stdout)
    assert str(X25519Identity.parse(inside["identity"]).recipient) == published
    assert _age_decrypt(wrapped, recovery_key, tmp_path).returncode != 0

    # The enrolment token was spent: the link does not work a second time.
    page.goto(f"{server.url}/enrol#token={token}")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_label("Confirmez le mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Continuer").click()
    expect(page.locator("#form-error")).to_have_text(
        "Ce code d'inscription est invalide, déjà utilisé ou expiré : demandez-en un nouveau "
        "à votre administrateur."
    )
    expect(page.locator("#enrol-factors")).to_be_hidden()

    # Passphrase forgotten: in a new sign-in, the recovery key opens the key, a new
    # passphrase and a new recovery key replace both copies, and the old key stops working.
    page.goto(server.url + "/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter avec une clé d'accès").click()
    page.wait_for_url("**/identity?next=*")
    page.get_by_role("button", name="Phrase secrète oubliée ? Utiliser ma clé de secours").click()
    form = page.locator("#recover-identity-form")
    form.get_by_label("Clé de secours").fill(str(X25519Identity.generate()))
    form.get_by_label("Nouvelle phrase secrète", exact=True).fill("une toute nouvelle phrase")
    form.get_by_label("Confirmez la nouvelle phrase secrète").fill("une toute nouvelle phrase")
    form.get_by_role("button", name="Rouvrir et changer de phrase secrète").click()
    expect(page.locator("#recover-error")).to_have_text(
        "Cette clé de secours n'ouvre pas votre clé."
    )
    form.get_by_label("Clé de secours").fill(key_file)  # the whole downloaded file works
    form.get_by_role("button", name="Rouvrir et changer de phrase secrète").click()
    expect(page.locator("#form-status")).to_have_text(
        "Clé rouverte et phrase secrète changée. Voici votre nouvelle clé de secours."
    )
    new_key = keep_recovery_key(page)
    assert new_key != recovery_key
    _, new_recovery, still_published = _stored_copies(server, email)
    assert still_published == published
    assert new_recovery is not None
    assert _age_decrypt(new_recovery, recovery_key, tmp_path).returncode != 0
    assert _age_decrypt(new_recovery, new_key, tmp_path).returncode == 0

    # The new passphrase unlocks the key in a later sign-in.
    page.evaluate("sessionStorage.clear()")
    page.goto(server.url + "/identity")
    page.get_by_label("Phrase secrète", exact=True).fill("une toute nouvelle phrase")
    page.get_by_role("button", name="Ouvrir ma clé").click()
    page.wait_for_url("**/inbox")


def test_enrolment_for_a_role_that_requires_passkeys_ends_signed_in_with_one(
    server: LiveServer, orgs: Orgs, page: Page, authenticators: Authenticators
) -> None:
    _require_passkeys(server, orgs.lab, Role.SENDER)
    _, token = _pending(server, orgs.lab, Role.SENDER)
    laptop = authenticators.plug()
    _enrol_until_passkey(page, server, token, screenshots=False)

    # The code was right, but the role needs a passkey: no way around it on this page.
    expect(page.locator("#enrol-passkey-required")).to_be_visible()
    expect(page.get_by_role("link", name="Plus tard")).to_be_hidden()
    page.get_by_label("Nom de la clé").fill("Poste du labo")
    page.get_by_role("button", name="Enregistrer une clé d'accès").click()
    page.wait_for_url("**/identity?next=/inbox")
    assert len(authenticators.credentials(laptop)) == 1
    page.goto(server.url + "/passkeys")
    expect(page.get_by_role("row", name=re.compile("Poste du labo"))).to_be_visible()
    expect(page.get_by_role("navigation")).to_be_visible()  # a session, from the passkey

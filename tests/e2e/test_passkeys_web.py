"""Passkeys in a real browser: Chromium's virtual authenticator (CDP ``WebAuthn``) and the pages.

The authenticator is a CTAP2 platform authenticator with user verification,
as a laptop's fingerprint reader; the browser makes and signs every answer
and the server verifies it with ``py_webauthn``. Chromium refuses an IP
address as the relying-party id, so this module's server is reached (and
configured) as ``http://localhost:PORT``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, CDPSession, Page, expect
from sqlalchemy import update

from scelle.accounts import passkeys
from scelle.accounts import repository as accounts_repository
from scelle.config import Settings
from scelle.db.base import utcnow
from scelle.db.models import Role, WebSession
from scelle.server.container import build_services
from tests.e2e.conftest import Orgs, make_member, shot, sign_in
from tests.factories import PASSWORD, Member
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
    services = build_services(Settings(data=server.data), migrate=False)
    try:
        with services.database.transaction() as session:
            session.execute(
                update(WebSession)
                .where(WebSession.user_id == user_id)
                .values(created_at=utcnow() - timedelta(minutes=10))
            )
    finally:
        services.database.dispose()


def _require_passkeys(server: LiveServer, org: str, role: Role) -> None:
    services = build_services(Settings(data=server.data), migrate=False)
    try:
        with services.database.transaction() as session:
            row = accounts_repository.org_by_name(session, org)
            assert row is not None
            passkeys.set_required_roles(session, services, row, {role})
    finally:
        services.database.dispose()


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

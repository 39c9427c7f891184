"""The administration pages in a real browser: members, enrolment link, roles, policies, 403.

An admin adds a member and sees the enrolment link once (its token enrols),
sets the send policy and the passkey-required roles, changes the member's
roles after a fresh proof (their login is made old), disables and re-enables
them; a member without the admin role gets a 403 page. French screenshots:
docs/screenshots/admin-users.png and admin-policy.png.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import update

from scelle.db.base import utcnow
from scelle.db.models import Role, WebSession
from tests.e2e.conftest import Orgs, make_member, server_services, shot, sign_in
from tests.factories import PASSWORD
from tests.integration.conftest import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _age_web_sessions(server: LiveServer, user_id: str, minutes: int) -> None:
    """Make the user's web sessions ``minutes`` old (past the re-authentication window)."""
    with server_services(server) as services, services.database.transaction() as session:
        session.execute(
            update(WebSession)
            .where(WebSession.user_id == user_id)
            .values(created_at=utcnow() - timedelta(minutes=minutes))
        )


def test_an_admin_adds_a_member_changes_roles_disables_and_sets_the_policy(
    server: LiveServer, orgs: Orgs, page: Page, context: BrowserContext
) -> None:
    boss = make_member(server, orgs.lab, Role.ADMIN, Role.SENDER, publish_key=False)
    colleague = make_member(server, orgs.lab, Role.SENDER, Role.RECIPIENT, publish_key=True)
    sign_in(page, server, boss, boss.recovery_codes[0])
    page.goto(server.url + "/admin")
    expect(page.get_by_role("link", name="Administration")).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.locator("#admin-org")).to_have_text(orgs.lab)
    expect(page.locator('[data-count="total"]')).to_have_text("2")
    expect(page.locator('[data-count="active"]')).to_have_text("2")
    page.get_by_role("list", name="Rubriques").get_by_role("link", name="Membres").click()
    page.wait_for_url("**/admin/users")

    # Add a member: the enrolment link is shown once, with its token in the fragment.
    email = f"nouveau@{orgs.lab}.test"
    page.get_by_label("Adresse e-mail du membre").fill(email)
    form = page.locator("#add-member-form")
    expect(form.get_by_label("Expéditeur")).to_be_checked()
    form.get_by_label("Administrateur").uncheck()
    page.get_by_role("button", name="Ajouter le membre").click()
    expect(page.locator("#form-status")).to_contain_text(f"{email} est ajouté")
    link = page.get_by_label("Lien d'inscription", exact=True)
    expect(link).to_have_value(re.compile(rf"^{re.escape(server.url)}/enrol#token=enr_[\w-]+$"))
    url = link.input_value()
    token = url.split("#token=", 1)[1]
    expect(page.get_by_label("Code d'inscription")).to_have_value(token)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page.get_by_role("button", name="Copier le lien").click()
    expect(page.locator("#form-status")).to_have_text("Lien copié.")
    assert page.evaluate("navigator.clipboard.readText()") == url
    expect(page.locator("#member-table tr", has_text=colleague.email)).to_contain_text("oui")
    shot(page, "admin-users")
    # The new member opens the link in their own browser: the enrolment page has the token.
    browser = context.browser
    assert browser is not None
    theirs = browser.new_context(locale="fr-FR")
    try:
        tab = theirs.new_page()
        tab.goto(url)
        expect(tab.get_by_label("Code d'inscription")).to_have_value(token)
        tab.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
        tab.get_by_label("Confirmez le mot de passe").fill(PASSWORD)
        tab.get_by_role("button", name="Continuer").click()
        expect(tab.locator("#enrol-account")).to_have_text(f"{email} ({orgs.lab})")
    finally:
        theirs.close()
    page.get_by_role("button", name="J'ai transmis le lien : fermer").click()
    row = page.locator("#member-table tr", has_text=email)
    expect(row).to_contain_text("actif")
    assert token not in page.content()  # shown once: gone with the reload
    page.get_by_label("Adresse e-mail du membre").fill(email)
    page.get_by_role("button", name="Ajouter le membre").click()
    expect(page.locator("#form-error")).to_have_text(
        "Un compte existe déjà avec cette adresse e-mail."
    )

    # The policies (the sign-in is recent): an action per identifier kind, and the
    # passkey-required roles.
    page.goto(server.url + "/admin/policy")
    page.get_by_label("NIR (numéro de sécurité sociale)").select_option("block")
    page.get_by_label("Texte clinique (données de santé)").select_option("purpose")
    page.get_by_role("button", name="Enregistrer la politique d'envoi").click()
    expect(page.locator("#form-status")).to_have_text("Politique d'envoi enregistrée.")
    expect(page.get_by_label("NIR (numéro de sécurité sociale)")).to_have_value("block")
    page.locator("#passkey-policy-form").get_by_label("Destinataire").check()
    page.get_by_role("button", name="Enregistrer les rôles à clé d'accès").click()
    expect(page.locator("#form-status")).to_have_text(
        "Rôles à clé d'accès obligatoire enregistrés."
    )
    expect(page.locator("#passkey-policy-form").get_by_label("Destinataire")).to_be_checked()
    shot(page, "admin-policy")
    enforced = httpx.get(
        server.url + "/api/v1/transfers/policy",
        headers={"Authorization": f"Bearer {boss.token}"},
        timeout=30,
    ).json()
    assert enforced["rules"] == {"nir": "block", "health_text": "purpose"}

    page.goto(server.url + "/admin/users")
    row = page.locator("#member-table tr", has_text=email)
    # Change the member's roles after a fresh proof: the admin's sign-in is made old.
    _age_web_sessions(server, boss.user_id, minutes=10)
    row.get_by_label("Expéditeur").uncheck()
    row.get_by_role("button", name=f"Enregistrer les rôles {email}").click()
    reauth = page.locator("#reauth-form")
    expect(reauth).to_be_visible()
    expect(page.get_by_label("Mot de passe")).to_be_focused()
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_label("Code à usage unique").fill(boss.recovery_codes[1])
    reauth.get_by_role("button", name="Confirmer").click()
    expect(page.locator("#form-status")).to_have_text("Rôles enregistrés.")
    row = page.locator("#member-table tr", has_text=email)
    expect(row.get_by_label("Expéditeur")).not_to_be_checked()
    expect(row.get_by_label("Destinataire")).to_be_checked()

    # The admin's own row cannot lock them out; the member's can be disabled, after a confirm.
    own = page.locator("#member-table tr", has_text=boss.email)
    expect(own.get_by_role("button", name=re.compile("Désactiver"))).to_have_count(0)
    expect(own.get_by_label("Administrateur")).to_be_disabled()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=f"Désactiver {email}").click()
    expect(page.locator("#form-status")).to_contain_text("Membre désactivé")
    row = page.locator("#member-table tr", has_text=email)
    expect(row).to_contain_text("désactivé")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=f"Réactiver {email}").click()
    expect(page.locator("#form-status")).to_have_text("Membre réactivé.")
    expect(page.locator("#member-table tr", has_text=email)).to_contain_text("actif")


def test_signed_out_goes_to_sign_in_and_a_member_gets_a_403_page(
    server: LiveServer, orgs: Orgs, page: Page
) -> None:
    page.goto(server.url + "/admin/users")
    page.wait_for_url("**/login?next=/admin/users")
    ana = make_member(server, orgs.lab, Role.SENDER, publish_key=False)
    sign_in(page, server, ana, ana.recovery_codes[0])
    expect(page.get_by_role("link", name="Administration")).to_have_count(0)
    for path in ("/admin", "/admin/users", "/admin/policy"):
        answer = page.goto(server.url + path)
        assert answer is not None
        assert answer.status == 403, path
        expect(page.get_by_role("alert")).to_contain_text(
            "Cette page est réservée aux administrateurs de votre organisation."
        )

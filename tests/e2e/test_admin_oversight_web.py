"""The oversight pages in a real browser: the operator's admin reads the audit log and the
retention counts, creates an organisation, opens a breach assessment; a plain org admin is
refused the breach register.

One server for the module (started with ``SCELLE_OPERATOR_ORG``), French pages, screenshots
in docs/screenshots/admin-*.png.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from scelle import ids
from scelle.breach import service as breach
from scelle.db.base import utcnow
from scelle.db.models import Role, Transfer
from tests import factories
from tests.e2e.conftest import make_member, server_services, shot
from tests.factories import PASSWORD, Member
from tests.integration.conftest import LiveServer, start_server, stop_server

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

OPERATOR = "chu-exploitant"
DIGITS = re.compile(r"^[1-9][0-9]*$")
_names = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """This module's own server: the same as the other browser tests', with an operator org."""
    live = start_server(
        tmp_path_factory.mktemp("e2e-admin") / "server-data",
        extra_env={"SCELLE_OPERATOR_ORG": OPERATOR},
    )
    with server_services(live) as services:
        factories.org(services, OPERATOR)
        factories.org(services, "labo-biologie")
    yield live
    stop_server(live)


def _seed(server: LiveServer, sender: Member) -> str:
    """Transfers of ``sender`` with known expiries, and a breach assessment; its id."""
    now = utcnow()
    with server_services(server) as services:
        with services.database.transaction() as session:
            for hours, purged in ((3, False), (30, False), (24 * 12, False), (-2, False)):
                transfer_id = ids.new_id("tr")
                digest = hashlib.sha256(transfer_id.encode()).digest()
                session.add(
                    Transfer(
                        id=transfer_id,
                        sender_id=sender.user_id,
                        sender_key_id=sender.key_id,
                        status="purged" if purged else "available",
                        payload_size=4096,
                        payload_sha256=digest,
                        metadata_ciphertext=b"\x00",
                        metadata_sha256=digest,
                        created_at=now - timedelta(hours=6),
                        expires_at=now + timedelta(hours=hours),
                        download_count=0,
                    )
                )
        with services.database.transaction() as session:
            report = breach.assess(
                session,
                services,
                start=now - timedelta(days=1),
                end=now - timedelta(hours=1),
                scope="server",
                aware_at=now - timedelta(hours=5),
                dpo_contact="dpo@chu-exploitant.test",
            )
        assessment_id: str = report["id"]
        return assessment_id


def _sign_in(page: Page, server: LiveServer, member: Member, target: str) -> None:
    """Through the sign-in page; then straight to ``target`` (the oversight pages need no key)."""
    page.goto(f"{server.url}/login?next={target}")
    page.get_by_label("Adresse e-mail").fill(member.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_label("Code à usage unique").fill(member.recovery_codes[0])
    page.get_by_role("button", name="Se connecter", exact=True).click()
    page.wait_for_url("**/identity?next=*")
    page.goto(server.url + target)


def test_the_operator_admin_oversees_and_a_plain_admin_is_refused_the_register(
    server: LiveServer, page: Page, browser: Browser
) -> None:
    operator = make_member(server, OPERATOR, Role.ADMIN, Role.SENDER, publish_key=True)
    assessment_id = _seed(server, operator)
    server.scelle("worker", "--once")  # purges the expired one, signs the first checkpoint

    _sign_in(page, server, operator, "/admin/audit")
    expect(page.get_by_role("heading", name="Journal d'audit", level=1)).to_be_visible()
    expect(page.locator("#tree-size")).to_have_text(DIGITS)
    table = page.get_by_role("table", name=f"Événements d'audit de {OPERATOR}")
    expect(table).to_contain_text("account:session:start")
    expect(table).to_contain_text(operator.email)
    shot(page, "admin-audit")
    # The filter works without script: a GET form, kept in the address.
    page.get_by_label("Action (début de l'étiquette)").fill("account:login")
    page.get_by_role("button", name="Appliquer le filtre").click()
    page.wait_for_url("**/admin/audit?action=account%3Alogin*")
    expect(table).not_to_contain_text("account:session:start")
    expect(table).to_contain_text("account:login:success")

    page.get_by_role("link", name="Conservation").click()
    page.wait_for_url("**/admin/retention")
    counts = page.get_by_role("table", name=f"Transferts envoyés par {OPERATOR}")
    expect(counts.locator('[data-count="within_24h"]')).to_have_text("1")
    expect(counts.locator('[data-count="within_7d"]')).to_have_text("1")
    expect(counts.locator('[data-count="later"]')).to_have_text("1")
    # The expired one was purged by the worker's pass above: counted as purged, not waiting.
    expect(counts.locator('[data-count="expired_awaiting_purge"]')).to_have_text("0")
    expect(counts.locator('[data-count="purged_30d"]')).to_have_text("1")
    expect(page.locator("#retention-rules")).to_contain_text("7 jours")
    shot(page, "admin-retention")

    page.get_by_role("link", name="Organisations").click()
    page.wait_for_url("**/admin/orgs")
    name = f"clinique-sud-{next(_names)}"
    page.get_by_label("Nom court de l'organisation").fill(name)
    email = page.get_by_label("Adresse e-mail de son premier administrateur (facultatif)")
    email.fill(f"direction@{name}.test")
    email.press("Enter")  # the form is keyboard-operable: Enter submits it
    link = page.locator("#enrolment-link")
    expect(link).to_be_focused()
    expect(link).to_contain_text(f"{server.url}/enrol#token=")
    expect(page.locator("#form-status")).to_have_text(f"Organisation {name} créée.")
    expect(page.locator(f'#orgs-table tr[data-org="{name}"]')).to_be_visible()
    # The same name again: refused, said in words, nothing created twice.
    page.get_by_label("Nom court de l'organisation").fill(name)
    page.get_by_role("button", name="Créer l'organisation").click()
    expect(page.locator("#form-error")).to_have_text(
        "Cette organisation ou cette adresse existe déjà."
    )
    page.get_by_label("Nom court de l'organisation").fill("")
    expect(page.get_by_role("table", name="Organisations du service")).to_contain_text(name)
    shot(page, "admin-orgs")

    page.get_by_role("link", name="Registre des violations").click()
    page.wait_for_url("**/admin/breach")
    page.get_by_role("link", name=assessment_id).click()
    page.wait_for_url(f"**/admin/breach/{assessment_id}")
    expect(page.locator("#notify-by")).to_contain_text("reste 6")  # 72 h after 5 h ago: 67 h
    expect(page.get_by_role("table", name="Chronologie")).to_contain_text("évaluation rédigée")
    expect(page.locator("#notice")).to_contain_text("dpo@chu-exploitant.test")
    expect(page.locator("#assessment-facts")).to_contain_text("4 transfert(s)")
    shot(page, "admin-breach")

    # A plain admin of another organisation: audit yes, the register no (403, said in words).
    admin = make_member(server, "labo-biologie", Role.ADMIN, publish_key=False)
    other = browser.new_context(locale="fr-FR")
    try:
        tab = other.new_page()
        _sign_in(tab, server, admin, "/admin/audit")
        expect(tab.get_by_role("link", name="Registre des violations")).to_have_count(0)
        answer = tab.goto(server.url + "/admin/breach")
        assert answer is not None
        assert answer.status == 403
        expect(tab.get_by_role("alert")).to_contain_text(
            "réservée aux administrateurs de l'organisation qui exploite le service"
        )
    finally:
        other.close()

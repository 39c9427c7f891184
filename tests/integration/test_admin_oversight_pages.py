"""The oversight pages (/admin/audit, /admin/retention, /admin/orgs, /admin/breach[/{id}]).

Server-rendered with the pages' headers (strict CSP, no-store), French by
default and English on request; a member who is not an admin, and an admin
who is not the operator's on the operator-only pages, get a 403 page that says
why; the register's pages are audited like the API.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests import factories
from tests.factories import PASSWORD, Member

from scelle import ids
from scelle.breach import service as breach
from scelle.config import Settings
from scelle.db.base import utcnow
from scelle.db.models import AuditEvent, Role
from scelle.server.container import Services
from scelle.server.web import PAGE_CSP

pytestmark = pytest.mark.integration

OPERATOR = "ops-web"
PAGES = ("/admin/audit", "/admin/retention", "/admin/orgs", "/admin/breach")


@pytest.fixture
def settings(tmp_path: Path, store_env: dict[str, str]) -> Settings:
    return Settings(data=tmp_path / "data", operator_org=OPERATOR)


def _sign_in(client: TestClient, member: Member) -> None:
    client.cookies.clear()
    response = client.post(
        "/api/v1/auth/session",
        json={"email": member.email, "password": PASSWORD, "otp": member.recovery_codes[0]},
    )
    assert response.status_code == 200, response.text


def _tags(services: Services, tag: str) -> list[tuple[str | None, str | None]]:
    with services.database.transaction() as session:
        rows = session.execute(
            select(AuditEvent.actor_id, AuditEvent.object_id).where(AuditEvent.tag == tag)
        )
        return [(actor, obj) for actor, obj in rows]


def test_each_page_is_for_whom_it_says(client: TestClient, services: Services) -> None:
    factories.org(services, OPERATOR)
    factories.org(services, "lab-p")
    operator = factories.member(services, OPERATOR, Role.ADMIN)
    admin = factories.member(services, "lab-p", Role.ADMIN)
    sender = factories.member(services, "lab-p", Role.SENDER)

    _sign_in(client, sender)
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 403, path
        assert "réservée aux administrateurs" in page.text
        assert page.headers["content-security-policy"] == PAGE_CSP

    _sign_in(client, admin)
    for path in PAGES[:2]:
        assert client.get(path).status_code == 200, path
    for path in (*PAGES[2:], f"/admin/breach/{ids.new_id('br')}"):
        page = client.get(path)
        assert page.status_code == 403, path
        assert "qui exploite le service (SCELLE_OPERATOR_ORG)" in page.text
    # The admin's sub-navigation shows only the pages they may open.
    audit = client.get("/admin/audit")
    assert 'href="/admin/retention"' in audit.text
    assert 'href="/admin/orgs"' not in audit.text

    _sign_in(client, operator)
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["content-security-policy"] == PAGE_CSP
        assert '<html lang="fr">' in page.text
        for tag in re.findall(r"<script[^>]*>", page.text):
            assert 'src="/static/app.js"' in tag or 'type="application/json"' in tag, tag
    orgs = client.get("/admin/orgs")
    assert "<caption>" in orgs.text
    assert '<label for="org-name">' in orgs.text
    assert 'data-page="admin-orgs"' in orgs.text
    english = client.get("/admin/retention?lang=en")
    assert '<html lang="en">' in english.text
    assert "Expire within 24 h" in english.text


def test_the_audit_page_filters_and_refuses_a_bad_filter(
    client: TestClient, services: Services
) -> None:
    factories.org(services, "lab-q")
    factories.org(services, "lab-r")
    admin = factories.member(services, "lab-q", Role.ADMIN)
    stranger = factories.member(services, "lab-r", Role.SENDER)
    _sign_in(client, admin)
    page = client.get("/admin/audit")
    assert page.status_code == 200
    assert admin.email in page.text
    assert stranger.email not in page.text  # lab-r's events are not lab-q's
    only_logins = client.get("/admin/audit?action=account:login")
    assert "account:session:start" not in only_logins.text
    assert "account:login:success" in only_logins.text
    bad = client.get("/admin/audit?from=hier")
    assert bad.status_code == 422
    assert "Filtre invalide" in bad.text
    assert 'value="hier"' in bad.text  # the form keeps what was typed, escaped


def test_the_breach_pages_show_the_assessment_and_are_audited(
    client: TestClient, services: Services
) -> None:
    factories.org(services, OPERATOR)
    operator = factories.member(services, OPERATOR, Role.ADMIN)
    now = utcnow()
    with services.database.transaction() as session:
        report = breach.assess(
            session,
            services,
            start=now - timedelta(days=3),
            end=now - timedelta(days=2),
            scope="server",
            aware_at=now - timedelta(days=4),  # the deadline has passed
        )
    _sign_in(client, operator)
    register = client.get("/admin/breach")
    assert register.status_code == 200
    assert f'href="/admin/breach/{report["id"]}"' in register.text
    assert "échéance dépassée" in register.text
    assert _tags(services, "breach:register:view") == [(operator.user_id, None)]

    detail = client.get(f"/admin/breach/{report['id']}")
    assert detail.status_code == 200
    assert "Chronologie" in detail.text
    assert "échéance de notification à l&#39;autorité de contrôle" in detail.text
    assert f"/api/v1/admin/breach/{report['id']}/report?format=json" in detail.text
    assert _tags(services, "breach:assessment:view") == [(operator.user_id, report["id"])]
    missing = client.get(f"/admin/breach/{ids.new_id('br')}")
    assert missing.status_code == 404
    assert "Cette évaluation n&#39;existe pas." in missing.text

"""The administration pages: an admin's session sees them, anyone else a 403 page with no data.

Signed out, they answer 303 to the sign-in page (tests/security/test_route_inventory.py).
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from tests import factories
from tests.factories import PASSWORD, Member

from scelle.db.models import Role
from scelle.server.container import Services
from scelle.server.web import PAGE_CSP

pytestmark = pytest.mark.integration

PAGES = ("/admin", "/admin/users", "/admin/policy")


def _sign_in(client: TestClient, member: Member, code: str) -> None:
    client.cookies.clear()
    response = client.post(
        "/api/v1/auth/session", json={"email": member.email, "password": PASSWORD, "otp": code}
    )
    assert response.status_code == 200, response.text


def test_admin_pages_for_admins_and_a_403_page_for_members(
    client: TestClient, services: Services
) -> None:
    factories.org(services, "lab-w")
    factories.org(services, "lab-v")
    boss = factories.member(services, "lab-w", Role.ADMIN)
    ana = factories.member(services, "lab-w", Role.SENDER, publish_key=False)
    outsider = factories.member(services, "lab-v", Role.SENDER, publish_key=False)

    _sign_in(client, boss, boss.recovery_codes[0])
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-security-policy"] == PAGE_CSP
        assert page.headers["cache-control"] == "no-store"
        assert '<a href="/admin" aria-current="page">Administration</a>' in page.text
        for tag in re.findall(r"<script[^>]*>", page.text):
            assert 'src="/static/app.js"' in tag or 'type="application/json"' in tag, tag
    landing = client.get("/admin").text
    assert "lab-w" in landing
    assert '<dd data-count="total">2</dd>' in landing
    for section in ("/admin/users", "/admin/policy", "/admin/audit", "/admin/retention"):
        assert f'href="{section}"' in landing
    users = client.get("/admin/users").text
    assert ana.email in users
    assert outsider.email not in users
    assert f'data-member-id="{ana.user_id}"' in users
    # The admin's own row offers no way to lock themself out.
    assert f'data-action="disable" data-member-id="{boss.user_id}"' not in users
    assert f'data-action="disable" data-member-id="{ana.user_id}"' in users
    assert re.search(rf'id="role-{boss.user_id}-admin"[^>]* checked disabled', users)
    policy = client.get("/admin/policy?lang=en").text
    assert '<select id="policy-nir" name="nir" aria-describedby="policy-actions">' in policy
    assert "Send policy" in policy
    client.cookies.delete("scelle_lang")

    _sign_in(client, ana, ana.recovery_codes[0])
    assert 'href="/admin"' not in client.get("/inbox").text
    for path in PAGES:
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert refused.headers["content-security-policy"] == PAGE_CSP
        assert refused.headers["cache-control"] == "no-store"
        assert "réservée aux administrateurs" in refused.text
        assert boss.email not in refused.text
        assert "data-member-id" not in refused.text

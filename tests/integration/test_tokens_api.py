"""Scoped API tokens: created narrower than the caller's, shown once, stored keyed, revocable."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests import factories

from scelle.db.models import ApiToken, Role
from scelle.server.container import Services

pytestmark = pytest.mark.integration


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _create(client: TestClient, token: str, *scopes: str, **extra: object) -> dict[str, object]:
    response = client.post(
        "/api/v1/tokens",
        json={"name": "script", "scopes": list(scopes), **extra},
        headers=_auth(token),
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_scoped_token_is_shown_once_stored_keyed_and_limited(
    client: TestClient, services: Services
) -> None:
    factories.org(services, "lab-t")
    ana = factories.member(services, "lab-t", Role.SENDER, Role.RECIPIENT)
    created = _create(client, ana.token, "receive", expires_in_days=2)
    secret = str(created["token"])
    assert created["scopes"] == ["receive"]

    listed = client.get("/api/v1/tokens", headers=_auth(ana.token)).json()["tokens"]
    assert {t["id"] for t in listed} >= {created["id"]}
    assert all("token" not in t for t in listed)

    with services.database.transaction() as session:
        row = session.get(ApiToken, created["id"])
        assert row is not None
        assert row.token_hash == services.secret_box.digest(secret)
        assert row.token_hash != hashlib.sha256(secret.encode()).hexdigest()
        stored = list(session.scalars(select(ApiToken.token_hash)))
    assert all(secret not in value for value in stored)

    # The receive-only token reads the inbox but cannot send or resolve recipients.
    assert client.get("/api/v1/transfers?box=inbox", headers=_auth(secret)).status_code == 200
    assert client.get("/api/v1/transfers?box=sent", headers=_auth(secret)).status_code == 403
    assert client.get("/api/v1/directory?to=lab-t", headers=_auth(secret)).status_code == 403
    assert (
        client.post(
            "/api/v1/uploads",
            headers={**_auth(secret), "Tus-Resumable": "1.0.0", "Upload-Length": "1"},
        ).status_code
        == 403
    )
    # Nor widen itself.
    wider = client.post(
        "/api/v1/tokens", json={"name": "x", "scopes": ["send"]}, headers=_auth(secret)
    )
    assert wider.status_code == 403


def test_no_escalation_and_bounded_lifetime(client: TestClient, services: Services) -> None:
    factories.org(services, "lab-e")
    ana = factories.member(services, "lab-e", Role.SENDER)
    for scopes, days, status in (
        (["admin"], None, 403),
        (["receive"], None, 403),
        (["root"], None, 422),
        ([], None, 422),
        (["send"], 31, 422),  # the server's token_lifetime is 30 days
    ):
        response = client.post(
            "/api/v1/tokens",
            json={"name": "x", "scopes": scopes, "expires_in_days": days},
            headers=_auth(ana.token),
        )
        assert response.status_code == status, (scopes, days, response.text)


def test_revoke_own_token_others_get_404_admin_of_the_org_may(
    client: TestClient, services: Services
) -> None:
    factories.org(services, "lab-r")
    factories.org(services, "lab-other")
    ana = factories.member(services, "lab-r", Role.SENDER)
    bob = factories.member(services, "lab-r", Role.SENDER)
    admin = factories.member(services, "lab-r", Role.ADMIN)
    outsider_admin = factories.member(services, "lab-other", Role.ADMIN)
    first = _create(client, ana.token, "send")
    second = _create(client, ana.token, "send")

    for who in (bob, outsider_admin):
        refused = client.delete(f"/api/v1/tokens/{first['id']}", headers=_auth(who.token))
        assert refused.status_code == 404
    unknown = client.delete("/api/v1/tokens/tok_" + "a" * 26, headers=_auth(ana.token))
    assert unknown.status_code == 404
    assert unknown.json() == refused.json()

    assert (
        client.delete(f"/api/v1/tokens/{first['id']}", headers=_auth(ana.token)).status_code == 204
    )
    assert client.get("/api/v1/me", headers=_auth(str(first["token"]))).status_code == 401
    assert (
        client.delete(f"/api/v1/tokens/{second['id']}", headers=_auth(admin.token)).status_code
        == 204
    )
    assert client.get("/api/v1/me", headers=_auth(str(second["token"]))).status_code == 401
    # The caller's own login token still works.
    assert client.get("/api/v1/me", headers=_auth(ana.token)).status_code == 200

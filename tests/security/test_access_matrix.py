"""Access-control matrix: every route that takes an object id × every kind of caller.

Callers: anonymous, the sender (owner of the transfer, upload and token), a
recipient of the transfer, a member of another organisation, and an admin of
the sender's organisation. Only the entitled succeed. The rule (see
docs/threat-model.md, "Object access"): no credentials → 401; a caller with
no relation to the object → 404, the same as an unknown id; 403 only for a
party to the object who lacks the permission for this action (it tells them
nothing they do not know).

The routes come from the app itself: a new route with an object id and no
MATRIX entry fails ``test_every_object_route_is_in_the_matrix``.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Route

from scelle.breach import service as breach
from scelle.config import Settings
from scelle.db.base import utcnow
from scelle.db.models import Role
from scelle.server.container import Services
from scelle.worker import sign_checkpoint_if_due
from tests import factories
from tests.factories import PASSWORD, Member
from tests.integration.test_transfers_api import send
from tests.webauthn_authenticator import SoftAuthenticator

pytestmark = pytest.mark.integration

CALLERS = ("anonymous", "other_org", "recipient", "admin", "sender")
# Entitled callers succeed: a 2xx (or, for the tus protocol routes, any answer that is
# not a refusal: the protocol may answer 409/412 about offsets to an entitled caller).
OK = "ok"
TUS = {"Tus-Resumable": "1.0.0"}


@dataclass(frozen=True)
class Case:
    object_kind: str  # transfer, upload, token, checkpoint, passkey, member (a user), assessment
    expected: dict[str, int | str]
    headers: dict[str, str] | None = None
    json: dict[str, str] | None = None
    content: bytes | None = None
    # A web UI page: callers present their session cookie (pages take no API token),
    # and without one the page redirects to /login (303) instead of answering 401.
    page: bool = False


@pytest.fixture
def settings(tmp_path: Path, store_env: dict[str, str]) -> Settings:
    """The sender's organisation runs the service: its admin is the operator's admin."""
    return Settings(data=tmp_path / "data", operator_org="lab-x")


MATRIX: dict[tuple[str, str], Case] = {
    ("GET", "/api/v1/transfers/{transfer_id}"): Case(
        "transfer",
        {"anonymous": 401, "other_org": 404, "admin": 404, "recipient": OK, "sender": OK},
    ),
    ("GET", "/api/v1/transfers/{transfer_id}/content"): Case(
        "transfer",
        # The sender is a party, so 403 (only recipients download) leaks nothing.
        {"anonymous": 401, "other_org": 404, "admin": 404, "recipient": OK, "sender": 403},
    ),
    ("POST", "/api/v1/transfers/{transfer_id}/seal"): Case(
        "transfer",
        {"anonymous": 401, "other_org": 404, "admin": 404, "recipient": 404, "sender": OK},
        json={"signature": "AAAA"},  # already sealed: the sender gets the idempotent answer
    ),
    ("DELETE", "/api/v1/transfers/{transfer_id}"): Case(
        "transfer",
        {"anonymous": 401, "other_org": 404, "admin": 404, "recipient": 404, "sender": OK},
    ),
    ("HEAD", "/api/v1/uploads/{upload_id}"): Case(
        "upload",
        {"anonymous": 401, "other_org": 404, "admin": 404, "recipient": 404, "sender": OK},
        headers=TUS,
    ),
    ("PATCH", "/api/v1/uploads/{upload_id}"): Case(
        "upload",
        {"anonymous": 401, "other_org": 404, "admin": 404, "recipient": 404, "sender": OK},
        headers={
            **TUS,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
        content=b"x",
    ),
    ("DELETE", "/api/v1/uploads/{upload_id}"): Case(
        "upload",
        {"anonymous": 401, "other_org": 404, "admin": 404, "recipient": 404, "sender": OK},
        headers=TUS,
    ),
    ("OPTIONS", "/api/v1/uploads/{upload_id}"): Case(
        "upload",  # tus discovery: public, says nothing about the upload
        {"anonymous": OK, "other_org": OK, "admin": OK, "recipient": OK, "sender": OK},
    ),
    ("GET", "/api/v1/audit/transfers/{transfer_id}"): Case(
        "transfer",  # a transfer's audit trail: its parties only
        {"anonymous": 401, "other_org": 404, "admin": 404, "recipient": OK, "sender": OK},
    ),
    ("GET", "/api/v1/audit/checkpoints/{tree_size}"): Case(
        "checkpoint",  # signed tree heads say nothing about anyone: any account
        {"anonymous": 401, "other_org": OK, "admin": OK, "recipient": OK, "sender": OK},
    ),
    ("DELETE", "/api/v1/passkeys/{passkey_id}"): Case(
        "passkey",  # one's own passkeys only; not even an admin removes a member's by API
        {"anonymous": 401, "other_org": 404, "admin": 404, "recipient": 404, "sender": OK},
    ),
    ("POST", "/api/v1/users/{user_id}/disable"): Case(
        "member",  # another member of the sender's organisation; admins of that org only
        {"anonymous": 401, "other_org": 403, "admin": OK, "recipient": 403, "sender": 403},
    ),
    ("POST", "/api/v1/users/{user_id}/enable"): Case(
        "member",
        {"anonymous": 401, "other_org": 403, "admin": OK, "recipient": 403, "sender": 403},
    ),
    # The admin API (accounts/admin_endpoints.py): the admin scope is checked first, so any
    # other caller is refused with 403 before the id is looked at; the sender's org admin only.
    ("PUT", "/api/v1/admin/users/{user_id}/roles"): Case(
        "member",
        {"anonymous": 401, "other_org": 403, "admin": OK, "recipient": 403, "sender": 403},
        json={"roles": ["recipient", "sender"]},
    ),
    ("POST", "/api/v1/admin/users/{user_id}/disable"): Case(
        "member",
        {"anonymous": 401, "other_org": 403, "admin": OK, "recipient": 403, "sender": 403},
    ),
    ("POST", "/api/v1/admin/users/{user_id}/enable"): Case(
        "member",
        {"anonymous": 401, "other_org": 403, "admin": OK, "recipient": 403, "sender": 403},
    ),
    ("POST", "/api/v1/admin/users/{user_id}/passkeys/reset"): Case(
        "member",
        {"anonymous": 401, "other_org": 403, "admin": OK, "recipient": 403, "sender": 403},
        json={},
    ),
    # The breach register (breach/endpoints.py): the operator's admins only (the sender's
    # organisation is the operator here, see ``settings``); an assessment is no party's.
    ("GET", "/api/v1/admin/breach/{assessment_id}"): Case(
        "assessment",
        {"anonymous": 401, "other_org": 403, "admin": OK, "recipient": 403, "sender": 403},
    ),
    ("GET", "/api/v1/admin/breach/{assessment_id}/report"): Case(
        "assessment",
        {"anonymous": 401, "other_org": 403, "admin": OK, "recipient": 403, "sender": 403},
    ),
    ("GET", "/admin/breach/{assessment_id}"): Case(
        "assessment",
        {"anonymous": 303, "other_org": 403, "admin": OK, "recipient": 403, "sender": 403},
        page=True,
    ),
    ("DELETE", "/api/v1/tokens/{token_id}"): Case(
        "token",
        # An admin of the owner's organisation may revoke a member's token.
        {"anonymous": 401, "other_org": 404, "admin": OK, "recipient": 404, "sender": OK},
    ),
    ("GET", "/api/v1/links/{transfer_id}"): Case(
        "transfer",  # patient links only: an account transfer is not one, for anyone
        {"anonymous": 404, "other_org": 404, "admin": 404, "recipient": 404, "sender": 404},
    ),
    ("GET", "/api/v1/links/{transfer_id}/content"): Case(
        "transfer",
        {"anonymous": 404, "other_org": 404, "admin": 404, "recipient": 404, "sender": 404},
    ),
    ("GET", "/transfers/{transfer_id}"): Case(
        "transfer",  # the transfer page: its parties only, like the API
        {"anonymous": 303, "other_org": 404, "admin": 404, "recipient": OK, "sender": OK},
        page=True,
    ),
}
# Routes with a path parameter that names no object, and why.
NOT_OBJECTS: dict[tuple[str, str], str] = {
    ("GET", "/static/{name}"): "the web UI's two fixed static files (bundle, style sheet)",
    ("GET", "/p/{transfer_id}"): "the patient page: one form for any id, data from /links",
}
# Destructive cases run last, so the others see the object alive.
_LAST = [
    ("DELETE", "/api/v1/transfers/{transfer_id}"),
    ("DELETE", "/api/v1/uploads/{upload_id}"),
    ("DELETE", "/api/v1/passkeys/{passkey_id}"),
    ("POST", "/api/v1/users/{user_id}/disable"),
    ("POST", "/api/v1/users/{user_id}/enable"),
]

_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def _walk(routes: list[object], prefix: str, found: set[tuple[str, str]]) -> None:
    for route in routes:
        if isinstance(route, Route):
            for method in route.methods or ():
                found.add((method, prefix + route.path))
            continue
        original = getattr(route, "original_router", None)
        assert original is not None, f"unexpected route kind {type(route).__name__}"
        _walk(original.routes, prefix + route.include_context.prefix, found)  # type: ignore[attr-defined]


def _object_routes(app: FastAPI) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    _walk(list(app.routes), "", found)
    return {r for r in found if _PARAM.search(r[1])}


def test_every_object_route_is_in_the_matrix(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    routes = _object_routes(app)
    assert len(routes) >= 8
    assert sorted(routes - MATRIX.keys() - NOT_OBJECTS.keys()) == [], (
        "object routes without a MATRIX entry"
    )
    assert sorted((MATRIX.keys() | NOT_OBJECTS.keys()) - routes) == [], (
        "MATRIX or NOT_OBJECTS entries for routes that are gone"
    )


def _ok(status: int, method: str, path: str) -> bool:
    if path.startswith("/api/v1/uploads/") and method != "OPTIONS":
        return status not in {401, 403, 404}
    return 200 <= status < 300


def test_only_the_entitled_reach_an_object(client: TestClient, services: Services) -> None:
    factories.org(services, "lab-x")
    factories.org(services, "cpam-75")
    factories.org(services, "ars-idf")
    people: dict[str, Member] = {
        "sender": factories.member(services, "lab-x", Role.SENDER),
        "recipient": factories.member(services, "cpam-75", Role.RECIPIENT),
        "other_org": factories.member(services, "ars-idf", Role.SENDER, Role.RECIPIENT),
        "admin": factories.member(services, "lab-x", Role.ADMIN, Role.SENDER, Role.RECIPIENT),
    }
    sender = people["sender"]
    bearer = {"Authorization": f"Bearer {sender.token}"}
    transfer_id = send(client, sender, [people["recipient"]], b"nir;result\n")
    # An upload in progress, for a second (pending) transfer.
    pending = client.post(
        "/api/v1/transfers",
        json={
            "recipients": [
                {"user_id": people["recipient"].user_id, "key_id": people["recipient"].key_id}
            ],
            "payload_size": 10,
            "payload_sha256": "00" * 32,
            "metadata": "AAAA",
        },
        headers=bearer,
    )
    assert pending.status_code == 201, pending.text
    meta = "transfer " + base64.b64encode(pending.json()["id"].encode()).decode()
    created = client.post(
        "/api/v1/uploads",
        headers={**bearer, **TUS, "Upload-Length": "10", "Upload-Metadata": meta},
    )
    assert created.status_code == 201, created.text
    upload_id = created.headers["Location"].rsplit("/", 1)[1]
    token = client.post(
        "/api/v1/tokens", json={"name": "spare", "scopes": ["send"]}, headers=bearer
    ).json()
    # A passkey of the sender's (their login is fresh, so removing it needs no more proof).
    passkey_begin = client.post("/api/v1/passkeys/register/begin", headers=bearer).json()
    passkey = client.post(
        "/api/v1/passkeys/register/finish",
        json={
            "challenge_id": passkey_begin["challenge_id"],
            "credential": SoftAuthenticator(services.settings.passkey_origin).create(
                passkey_begin["options"]
            ),
        },
        headers=bearer,
    )
    assert passkey.status_code == 201, passkey.text
    checkpoint = sign_checkpoint_if_due(services, force=True)
    assert checkpoint is not None
    now = utcnow()
    with services.database.transaction() as session:
        assessment = breach.assess(
            session,
            services,
            start=now - timedelta(days=2),
            end=now - timedelta(days=1),
            scope="server",
            aware_at=now - timedelta(hours=2),
        )
    objects = {
        "transfer": transfer_id,
        "upload": upload_id,
        "token": token["id"],
        "checkpoint": str(checkpoint),
        "passkey": passkey.json()["id"],
        "member": factories.member(services, "lab-x", Role.SENDER, publish_key=False).user_id,
        "assessment": assessment["id"],
    }

    sessions: dict[str, str] = {}
    for caller, person in people.items():
        login = client.post(
            "/api/v1/auth/session",
            json={"email": person.email, "password": PASSWORD, "otp": person.recovery_codes[0]},
        )
        assert login.status_code == 200, login.text
        sessions[caller] = login.cookies["scelle_session"]
        client.cookies.clear()

    order = [k for k in MATRIX if k not in _LAST] + _LAST
    failures = []
    for method, template in order:
        case = MATRIX[method, template]
        path = _PARAM.sub(objects[case.object_kind], template)
        for caller in CALLERS:
            headers = dict(case.headers or {})
            if caller != "anonymous" and case.page:
                headers["Cookie"] = f"scelle_session={sessions[caller]}"
            elif caller != "anonymous":
                headers["Authorization"] = f"Bearer {people[caller].token}"
            response = client.request(
                method,
                path,
                headers=headers,
                json=case.json,
                content=case.content,
                follow_redirects=False,
            )
            want = case.expected[caller]
            got_ok = _ok(response.status_code, method, template)
            if (want == OK and not got_ok) or want not in (OK, response.status_code):
                failures.append((method, template, caller, want, response.status_code))
    assert failures == []


def test_unknown_ids_answer_like_foreign_ones(client: TestClient, services: Services) -> None:
    factories.org(services, "lab-y")
    factories.org(services, "lab-x")
    eve = factories.member(services, "lab-y", Role.SENDER, Role.RECIPIENT)
    headers = {"Authorization": f"Bearer {eve.token}", **TUS}
    bodies = set()
    for path in ("/api/v1/transfers/tr_" + "a" * 26, "/api/v1/transfers/not-an-id"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404
        bodies.add(response.text)
    assert len(bodies) == 1
    assert client.head("/api/v1/uploads/up_" + "a" * 26, headers=headers).status_code == 404
    assert client.delete("/api/v1/tokens/tok_" + "a" * 26, headers=headers).status_code == 404
    assert client.delete("/api/v1/passkeys/pk_" + "a" * 26, headers=headers).status_code == 404
    admin = factories.member(services, "lab-y", Role.ADMIN)
    elsewhere = factories.member(services, "lab-x", Role.SENDER, publish_key=False)
    as_admin = {"Authorization": f"Bearer {admin.token}"}
    for user_id in ("usr_" + "a" * 26, elsewhere.user_id, "not-an-id"):
        response = client.post(f"/api/v1/users/{user_id}/disable", headers=as_admin)
        assert response.status_code == 404, response.text

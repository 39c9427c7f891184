"""Key rotation, revocation and the lost-device flow, through the real app and the client pins."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests import factories
from tests.factories import Member

from scelle.client import pins
from scelle.client.keyring import Keyring
from scelle.client.state import LocalState
from scelle.crypto.signing import SigningKey, key_rotation_message
from scelle.db.models import AuditEvent, PublicKey, Role
from scelle.errors import ClientError, KeyChanged, KeyRotated
from scelle.server.container import Services

pytestmark = pytest.mark.integration


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def bundle(keyring: Keyring) -> dict[str, str]:
    return {
        "x25519_recipient": keyring.recipient,
        "ed25519_public": base64.b64encode(keyring.ed25519_public).decode(),
        "self_signature": base64.b64encode(keyring.self_signature()).decode(),
    }


def publish(client: TestClient, member: Member, keyring: Keyring, **extra: str) -> Any:
    return client.put(
        "/api/v1/keys/me", json={**bundle(keyring), **extra}, headers=auth(member.token)
    )


def entry_of(client: TestClient, asker: Member, target: Member) -> dict[str, Any]:
    answer = client.get("/api/v1/directory", params={"to": target.email}, headers=auth(asker.token))
    assert answer.status_code == 200, answer.text
    (entry,) = answer.json()["recipients"]
    return dict(entry)


def tags(services: Services, user_id: str) -> list[tuple[str, dict[str, Any]]]:
    with services.database.transaction() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.actor_id == user_id).order_by(AuditEvent.seq)
        )
        return [(e.tag, json.loads(e.data)) for e in events if e.tag.startswith("keys:")]


@pytest.fixture
def pair(services: Services) -> tuple[Member, Member, Keyring]:
    """Ana (sender) and Bob (recipient) whose first key is a Keyring the test holds."""
    factories.org(services, "lab")
    factories.org(services, "cpam")
    ana = factories.member(services, "lab", Role.SENDER, Role.RECIPIENT)
    bob = factories.member(services, "cpam", Role.RECIPIENT, publish_key=False)
    return ana, bob, Keyring.generate()


def test_a_signed_rotation_is_audited_shown_and_accepted_by_pinning_clients(
    client: TestClient, services: Services, pair: tuple[Member, Member, Keyring], tmp_path: Path
) -> None:
    ana, bob, first = pair
    assert publish(client, bob, first).status_code == 201
    ana_state = LocalState(tmp_path / "ana")
    entry = entry_of(client, ana, bob)
    assert pins.check(ana_state, entry["user_id"], bob.email, pins.fingerprint_of(entry), entry)

    second = Keyring.generate()
    rotated = publish(
        client,
        bob,
        second,
        rotation_signature=base64.b64encode(first.rotation_signature(second)).decode(),
    )
    assert rotated.status_code == 201, rotated.text
    entry = entry_of(client, ana, bob)
    assert entry["fingerprint"] == second.fingerprint
    assert entry["history"][0]["fingerprint"] == first.fingerprint
    assert entry["history"][0]["revocation_reason"] == "rotated"
    assert pins.assess(ana_state, entry) == "rotated"
    with pytest.raises(KeyRotated, match="scelle keys accept"):
        pins.check(ana_state, entry["user_id"], bob.email, second.fingerprint, entry)
    assert pins.accept(ana_state, entry) == first.fingerprint
    assert pins.check(ana_state, entry["user_id"], bob.email, second.fingerprint, entry) is False

    # Two rotations in a row are followed link by link.
    third = Keyring.generate()
    signature = base64.b64encode(second.rotation_signature(third)).decode()
    assert publish(client, bob, third, rotation_signature=signature).status_code == 201
    other_state = LocalState(tmp_path / "other")
    pins.trust(other_state, entry["user_id"], bob.email, first.fingerprint)
    assert pins.assess(other_state, entry_of(client, ana, bob)) == "rotated"

    # The key a server offered before the rotation is now refused for encryption.
    with pytest.raises(ClientError, match="retired key"):
        pins.refuse_retired(
            ana_state, {"user_id": entry["user_id"], "email": bob.email, **bundle(first)}
        )

    events = tags(services, bob.user_id)
    assert [t for t, _ in events] == ["keys:key:publish", "keys:key:rotate", "keys:key:rotate"]
    assert all(data["attested"] for tag, data in events if tag == "keys:key:rotate")


def test_a_rotation_signed_by_another_key_is_refused_and_changes_nothing(
    client: TestClient, services: Services, pair: tuple[Member, Member, Keyring]
) -> None:
    ana, bob, first = pair
    assert publish(client, bob, first).status_code == 201
    second = Keyring.generate()
    forged = SigningKey.generate().sign(
        key_rotation_message(first.fingerprint, second.recipient, second.ed25519_public)
    )
    answer = publish(client, bob, second, rotation_signature=base64.b64encode(forged).decode())
    assert answer.status_code == 422
    assert "rotation signature" in answer.json()["error"]["message"]
    assert entry_of(client, ana, bob)["fingerprint"] == first.fingerprint


def test_a_replacement_without_signature_needs_out_of_band_trust(
    client: TestClient, pair: tuple[Member, Member, Keyring], tmp_path: Path
) -> None:
    ana, bob, first = pair
    publish(client, bob, first)
    state = LocalState(tmp_path)
    entry = entry_of(client, ana, bob)
    pins.check(state, entry["user_id"], bob.email, first.fingerprint, entry)
    second = Keyring.generate()
    assert publish(client, bob, second).status_code == 201
    entry = entry_of(client, ana, bob)
    assert entry["history"][0]["revocation_reason"] == "replaced"
    assert pins.assess(state, entry) == "changed"
    with pytest.raises(KeyChanged) as caught:
        pins.check(state, entry["user_id"], bob.email, second.fingerprint, entry)
    assert not isinstance(caught.value, KeyRotated)
    with pytest.raises(KeyChanged, match="keys trust"):
        pins.accept(state, entry)


def test_a_revoked_key_is_refused_for_new_transfers(
    client: TestClient, services: Services, pair: tuple[Member, Member, Keyring]
) -> None:
    ana, bob, first = pair
    published = publish(client, bob, first).json()
    revoked = client.post("/api/v1/keys/me/revoke", headers=auth(bob.token))
    assert revoked.status_code == 200
    assert revoked.json() == {"revoked_keys": 1}
    # Nobody finds the key any more...
    answer = client.get("/api/v1/directory", params={"to": bob.email}, headers=auth(ana.token))
    assert answer.status_code == 404
    # ... and a transfer addressed to it is refused by the server.
    body = {
        "recipients": [{"user_id": bob.user_id, "key_id": published["key_id"]}],
        "payload_size": 10,
        "payload_sha256": "00" * 32,
        "metadata": base64.b64encode(b"x" * 40).decode(),
    }
    created = client.post("/api/v1/transfers", json=body, headers=auth(ana.token))
    assert created.status_code == 409
    assert created.json()["error"]["code"] == "key_revoked"
    # Revoking twice is a clear conflict, not a 500.
    again = client.post("/api/v1/keys/me/revoke", headers=auth(bob.token))
    assert again.status_code == 409
    assert ("keys:key:revoke", {"fingerprint": first.fingerprint, "reason": "revoked"}) in tags(
        services, bob.user_id
    )


def test_the_client_refuses_to_encrypt_to_a_key_marked_revoked(tmp_path: Path) -> None:
    keyring = Keyring.generate()
    entry = {"user_id": "usr_x", "email": "x@y.test", **bundle(keyring)}
    pins.refuse_retired(LocalState(tmp_path), entry)
    with pytest.raises(ClientError, match="revoked"):
        pins.refuse_retired(LocalState(tmp_path), {**entry, "revoked_at": "2026-01-01T00:00:00Z"})


def test_lost_device_reauthenticates_revokes_everything_and_publishes_the_new_key(
    client: TestClient, services: Services, pair: tuple[Member, Member, Keyring], tmp_path: Path
) -> None:
    ana, bob, first = pair
    publish(client, bob, first)
    state = LocalState(tmp_path)
    entry = entry_of(client, ana, bob)
    pins.check(state, entry["user_id"], bob.email, first.fingerprint, entry)

    new = Keyring.generate()
    wrong = client.post(
        "/api/v1/keys/me/lost-device",
        json={**bundle(new), "password": factories.PASSWORD, "otp": "000000"},
        headers=auth(bob.token),
    )
    assert wrong.status_code == 401
    assert entry_of(client, ana, bob)["fingerprint"] == first.fingerprint

    done = client.post(
        "/api/v1/keys/me/lost-device",
        json={**bundle(new), "password": factories.PASSWORD, "otp": bob.recovery_codes[0]},
        headers=auth(bob.token),
    )
    assert done.status_code == 201, done.text
    result = done.json()
    assert result["revoked_keys"] == 1
    assert result["revoked_tokens"] == 1
    # The token the lost device held is dead; the fresh one works.
    assert client.get("/api/v1/me", headers=auth(bob.token)).status_code == 401
    me = client.get("/api/v1/me", headers=auth(result["token"]))
    assert me.json()["key"]["fingerprint"] == new.fingerprint
    entry = entry_of(client, ana, bob)
    assert entry["history"][0]["revocation_reason"] == "lost_device"
    # Correspondents must compare the new key out of band: it is not a rotation.
    assert pins.assess(state, entry) == "changed"
    with pytest.raises(KeyChanged, match="keys trust"):
        pins.check(state, entry["user_id"], bob.email, new.fingerprint, entry)
    with services.database.transaction() as session:
        keys = session.scalars(select(PublicKey).where(PublicKey.user_id == bob.user_id)).all()
        assert sorted(k.revocation_reason or "current" for k in keys) == ["current", "lost_device"]
    assert [t for t, _ in tags(services, bob.user_id)][-2:] == [
        "keys:key:revoke",
        "keys:key:lost-device",
    ]


def test_a_lost_device_bundle_signed_by_the_lost_key_is_refused(
    client: TestClient, pair: tuple[Member, Member, Keyring]
) -> None:
    _ana, bob, first = pair
    publish(client, bob, first)
    new = Keyring.generate()
    answer = client.post(
        "/api/v1/keys/me/lost-device",
        json={
            **bundle(new),
            "rotation_signature": base64.b64encode(first.rotation_signature(new)).decode(),
            "password": factories.PASSWORD,
            "otp": bob.recovery_codes[0],
        },
        headers=auth(bob.token),
    )
    assert answer.status_code == 422

"""Host commands: admin lockdown, admin set-policy, breach assess/register (against --data)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from tests import factories

from scelle.db.base import utcnow
from scelle.db.models import ApiToken, AuditEvent, OIDCLogin, Role, WebAuthnChallenge
from scelle.server.container import Services

SCELLE = str(Path(sys.executable).parent / "scelle")


def host(services: Services, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
    return subprocess.run(
        [SCELLE, *args, "--data", str(services.settings.data)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_lockdown_revokes_every_token_and_is_audited(services: Services) -> None:
    factories.org(services, "lab-l")
    factories.member(services, "lab-l", Role.SENDER)
    member = factories.member(services, "lab-l", Role.RECIPIENT)
    with services.database.transaction() as session:  # a passkey ceremony in flight
        session.add(
            WebAuthnChallenge(
                id_hash="0" * 64,
                user_id=member.user_id,
                purpose="enrol",
                challenge=b"c" * 32,
                expires_at=utcnow() + timedelta(minutes=5),
            )
        )
        session.add(  # an SSO login started, not finished
            OIDCLogin(
                state_hash="1" * 64,
                nonce_hash="n" * 64,
                verifier_sealed=b"v",
                expires_at=utcnow() + timedelta(minutes=10),
            )
        )
    done = host(services, "admin", "lockdown", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tokens_revoked"] == 2
    with services.database.transaction() as session:
        assert all(t.revoked_at is not None for t in session.scalars(select(ApiToken)))
        assert all(c.used_at is not None for c in session.scalars(select(WebAuthnChallenge)))
        assert all(login.used_at is not None for login in session.scalars(select(OIDCLogin)))
        tags = list(session.scalars(select(AuditEvent.tag)))
    assert "admin:access:lockdown" in tags


def test_set_policy_and_breach_register(services: Services) -> None:
    factories.org(services, "lab-s")
    bad = host(services, "admin", "set-policy", "--org", "lab-s", "--rule", "nir=forbid")
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: unknown action 'forbid'")
    ok = host(services, "admin", "set-policy", "--org", "lab-s", "--rule", "nir=block", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["rules"] == {"nir": "block"}
    assessed = host(services, "breach", "assess", "--from", "2026-01-01T00:00Z", "--to",
                    "2026-01-02T00:00Z", "--scope", "server", "--aware-at",
                    "2026-01-03T10:00Z", "--format", "json")  # fmt: skip
    assert assessed.returncode == 0, assessed.stderr
    report = json.loads(assessed.stdout)
    assert report["notify_by"] == "2026-01-06T10:00:00+00:00"
    assert report["plaintext_exposed"] == "ciphertext_only"
    listed = host(services, "breach", "register", "--json")
    assert [entry["id"] for entry in json.loads(listed.stdout)] == [report["id"]]
    wrong = host(services, "breach", "assess", "--from", "x", "--to", "y")
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("error: --from is not an ISO 8601 time")
    noacct = host(services, "breach", "assess", "--from", "2026-01-01", "--to", "2026-01-02")
    assert noacct.stderr == "error: the account scope needs --account EMAIL\n"

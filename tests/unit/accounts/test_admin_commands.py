"""Host commands on accounts: require-passkey, disable-user / enable-user, reset-passkeys."""

from __future__ import annotations

import json

from sqlalchemy import select
from tests import factories
from tests.factories import PASSWORD
from typer.testing import CliRunner, Result

from scelle.accounts import repository
from scelle.accounts import service as accounts
from scelle.cli.app import build_app
from scelle.db.models import ApiToken, AuditEvent, Role, User, UserStatus, WebAuthnCredential
from scelle.errors import Conflict, InvalidCredentials
from scelle.server.container import Services


def host(services: Services, *args: str) -> Result:
    """The real command, in this process (a subprocess costs seconds of start-up each)."""
    return CliRunner().invoke(
        build_app(), [*args, "--data", str(services.settings.data)], catch_exceptions=True
    )


def _tags(services: Services) -> list[str]:
    with services.database.transaction() as session:
        return list(session.scalars(select(AuditEvent.tag)))


def test_require_passkey_sets_and_lifts_the_roles(services: Services) -> None:
    factories.org(services, "lab-c")
    assert host(services, "admin", "require-passkey", "--org", "lab-c").exit_code == 1
    bad = host(services, "admin", "require-passkey", "--org", "lab-c", "--role", "boss")
    assert bad.exit_code == 1
    assert bad.stderr == "error: a role is one of: sender, recipient, admin\n"
    ok = host(services, "admin", "require-passkey", "--org", "lab-c", "--role", "admin", "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout) == {"org": "lab-c", "passkey_roles": ["admin"]}
    off = host(services, "admin", "require-passkey", "--org", "lab-c", "--off")
    assert off.exit_code == 0, off.output
    with services.database.transaction() as session:
        org = repository.org_by_name(session, "lab-c")
        assert org is not None
        assert org.passkey_roles == ""
    assert _tags(services).count("admin:org:passkey_policy") == 2


def test_disable_and_enable_a_user(services: Services) -> None:
    factories.org(services, "lab-d")
    ana = factories.member(services, "lab-d", Role.SENDER)
    unknown = host(services, "admin", "disable-user", "nobody@lab-d.test")
    assert unknown.exit_code == 1
    assert unknown.stderr == "error: no user with the e-mail nobody@lab-d.test\n"
    done = host(services, "admin", "disable-user", ana.email.upper())
    assert done.exit_code == 0, done.output
    with services.database.transaction() as session:
        user = session.get(User, ana.user_id)
        assert user is not None
        assert user.status == UserStatus.DISABLED.value
        revoked = [t.revoked_at for t in session.scalars(select(ApiToken))]
    assert revoked
    assert all(revoked)
    try:
        with services.database.transaction() as session:
            accounts.login(session, services, ana.email, PASSWORD, ana.recovery_codes[0])
        raise AssertionError("a disabled account logged in")
    except InvalidCredentials:
        pass
    assert host(services, "admin", "enable-user", ana.email).exit_code == 0
    again = host(services, "admin", "enable-user", ana.email)
    assert isinstance(again.exception, Conflict)  # main() prints it as one error: line
    assert str(again.exception) == "this account is active, not disabled"
    with services.database.transaction() as session:
        accounts.login(session, services, ana.email, PASSWORD, ana.recovery_codes[1])
    tags = _tags(services)
    assert "admin:user:disable" in tags
    assert "admin:user:enable" in tags


def test_reset_passkeys_removes_them_all(services: Services) -> None:
    factories.org(services, "lab-e")
    ana = factories.member(services, "lab-e", Role.SENDER)
    with services.database.transaction() as session:
        for n in range(2):
            session.add(
                WebAuthnCredential(
                    id=f"pk_{'a' * 25}{n}",
                    user_id=ana.user_id,
                    credential_id=bytes([n]) * 16,
                    public_key=b"cose",
                    sign_count=0,
                    transports="",
                    name=f"key {n}",
                )
            )
    done = host(services, "admin", "reset-passkeys", ana.email)
    assert done.exit_code == 0, done.output
    assert "removed 2 passkey(s)" in done.stdout
    with services.database.transaction() as session:
        assert list(session.scalars(select(WebAuthnCredential))) == []
    assert "admin:user:passkeys_reset" in _tags(services)

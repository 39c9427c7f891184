"""Client commands that talk to a Scellé server: account, keys, send, inbox, receive.

They are thin over :mod:`scelle.client` and never import server code. State
lives under ``SCELLE_HOME``; the server comes from ``--server``, then
``SCELLE_SERVER``, then the saved session. Secrets are read from standard
input (``--password-stdin``, ``--passphrase-stdin``), ``SCELLE_PASSPHRASE``,
or asked on the terminal; nothing secret is ever taken from the command line.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from scelle.cli.console import ask_passphrase, emit_json, fail, make_progress, stderr, stdout
from scelle.client import pins, receipts
from scelle.client.api import ScelleClient
from scelle.client.keyring import Keyring
from scelle.client.state import LocalState, Session, write_private
from scelle.client.transfer import (
    ProgressFactory,
    inbox,
    prune_outbox,
    receive,
    require_keys,
    send,
    sent,
)
from scelle.errors import ClientError, LocalStateError, ServerError

__all__ = ["register"]

PASSPHRASE_ENV = "SCELLE_PASSPHRASE"  # noqa: S105  (the name of a variable)
_DURATION = re.compile(r"\A(\d{1,6})([smhdw])\Z")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

ServerOption = typer.Option(
    None, "--server", envvar="SCELLE_SERVER", help="Server URL (default: the saved session)."
)
JsonOption = typer.Option(False, "--json", help="Print the result as JSON.")
PassphraseStdinOption = typer.Option(
    False,
    "--passphrase-stdin",
    help=f"Read the passphrase of the local keys from stdin (else {PASSPHRASE_ENV} or a prompt).",
)

identity_app = typer.Typer(help="This device's identity (its private key).", no_args_is_help=True)
keys_app = typer.Typer(help="Public keys: yours and your correspondents'.", no_args_is_help=True)
token_app = typer.Typer(
    help="Scoped API tokens (send, receive, admin) for scripts.", no_args_is_help=True
)
passkeys_app = typer.Typer(
    help="Your passkeys: list and remove (register them from a browser).", no_args_is_help=True
)


# -- plumbing ------------------------------------------------------------------


def _stdin_line() -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        fail("nothing was read from standard input")
    return line


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return _stdin_line()
    if not sys.stdin.isatty():
        fail("a password is needed: use --password-stdin (no terminal to ask on)")
    password = getpass.getpass("Password: ")
    if not password:
        fail("the password is empty")
    return password


def _passphrase(from_stdin: bool, *, confirm: bool = False, required: bool = True) -> str | None:
    """The passphrase of the local keys: stdin, SCELLE_PASSPHRASE, or the terminal."""
    if from_stdin:
        return _stdin_line()
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        if not required:
            return None
        raise LocalStateError(
            f"a passphrase is needed: set {PASSPHRASE_ENV} or use --passphrase-stdin"
        )
    return ask_passphrase("Passphrase of the local keys: ", confirm=confirm)


def _client(server: str | None, *, logged_in: bool = True) -> tuple[ScelleClient, Session]:
    session = LocalState().load_session(server)
    if logged_in and not session.token:
        raise LocalStateError(f"not logged in to {session.server}: run `scelle login` first")
    device = LocalState().device_id()
    client = ScelleClient(session.server, session.token, device_id=device)
    client.receipt_hook = receipts.recorder(LocalState(), session.server)
    return client, session


@contextlib.contextmanager
def _progress() -> Iterator[ProgressFactory]:
    """Rich bars on stderr, shown only when stderr is a terminal."""
    with make_progress() as bar:

        def factory(description: str, total: int) -> Any:
            task = bar.add_task(description, total=total or None)
            return lambda n: bar.advance(task, n)

        yield factory


def _duration(text: str) -> int:
    match = _DURATION.match(text.strip().lower())
    if match is None:
        fail("--expires takes a number and a unit, e.g. 30m, 12h, 3d or 2w")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _size(count: object) -> str:
    if not isinstance(count, int):
        return "?"
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"


# -- account -------------------------------------------------------------------


def enrol(
    server: str = typer.Option(..., "--server", envvar="SCELLE_SERVER", help="Server URL."),
    token: str = typer.Option(..., "--token", help="The one-time enrolment token."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the new password from stdin."
    ),
    json_out: bool = JsonOption,
) -> None:
    """Set your password with a one-time enrolment token; prints your TOTP secret."""
    password = _password(password_stdin)
    state = LocalState()
    with ScelleClient(server, device_id=LocalState().device_id()) as client:
        result = client.enrol(token, password)
    state.save_session(
        Session(server=client.server, user_id=result["user_id"], email=result["email"])
    )
    if json_out:
        emit_json(result)
        return
    stdout.print(f"enrolled {result['email']} ({result['org']})")
    stdout.print(f"TOTP secret (add it to your authenticator app): {result['totp_secret']}")
    stdout.print(f"  {result['totp_uri']}")
    stdout.print("recovery codes (keep them offline; each works once):")
    for code in result["recovery_codes"]:
        stdout.print(f"  {code}")
    stdout.print(f"next: scelle login --server {client.server} --email {result['email']}")


def login(
    server: str = typer.Option(..., "--server", envvar="SCELLE_SERVER", help="Server URL."),
    email: str = typer.Option(..., "--email", help="Your e-mail (login)."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin."
    ),
    otp: str | None = typer.Option(
        None, "--otp", help="A TOTP code (or a recovery code); asked if missing."
    ),
    json_out: bool = JsonOption,
) -> None:
    """Log in with password and second factor; the API token is kept in SCELLE_HOME."""
    password = _password(password_stdin)
    if otp is None:
        if not sys.stdin.isatty():
            fail("a second factor is needed: use --otp CODE")
        otp = input("TOTP code: ").strip()
    with ScelleClient(server, device_id=LocalState().device_id()) as client:
        result = client.login(email, password, otp)
    user = result["user"]
    LocalState().save_session(
        Session(
            server=client.server,
            token=result["token"],
            user_id=user["id"],
            email=user["email"],
            org=user["org"],
        )
    )
    if json_out:
        emit_json({"user": user, "expires_at": result["expires_at"], "server": client.server})
    else:
        stdout.print(f"logged in as {user['email']} ({user['org']}) on {client.server}")


def logout(server: str | None = ServerOption) -> None:
    """Revoke this device's API token and forget it."""
    state = LocalState()
    session = state.load_session(server)
    if session.token:
        with ScelleClient(session.server, session.token) as client:
            try:
                client.logout()
            except ServerError as exc:
                if exc.http_status != 401:  # 401: already revoked or expired
                    raise
    session.token = None
    state.save_session(session)
    stdout.print("logged out")


def whoami(server: str | None = ServerOption, json_out: bool = JsonOption) -> None:
    """Who this device is logged in as, and its key."""
    client, session = _client(server)
    with client:
        me = client.me()
    public = LocalState().load_public()
    result = {**me, "server": session.server, "local_key": public}
    if json_out:
        emit_json(result)
        return
    stdout.print(f"{me['email']} ({me['org']}; {', '.join(me['roles'])}) on {session.server}")
    key = me.get("key")
    stdout.print(f"published key: {key['fingerprint'] if key else 'none (run scelle keygen)'}")


# -- API tokens ------------------------------------------------------------------


@token_app.command("create")
def token_create(
    name: str = typer.Option(..., "--name", help="What the token is for (shown in the list)."),
    scope: list[str] = typer.Option(
        ..., "--scope", help="send, receive or admin; repeat for several."
    ),
    expires_days: int | None = typer.Option(
        None, "--expires-days", help="Lifetime in days (default and maximum: the server's)."
    ),
    server: str | None = ServerOption,
    json_out: bool = JsonOption,
) -> None:
    """Create a scoped API token; its secret is printed once."""
    client, _session = _client(server)
    with client:
        result = client.create_token(name, scope, expires_days)
    if json_out:
        emit_json(result)
        return
    stdout.print(f"{result['id']} ({' '.join(result['scopes'])}; expires {result['expires_at']})")
    stdout.print(result["token"], markup=False)
    stderr.print("the token is shown once: keep it in a secret store")


@token_app.command("list")
def token_list(server: str | None = ServerOption, json_out: bool = JsonOption) -> None:
    """Your API tokens: id, name, scopes, expiry, revocation (never the secrets)."""
    client, _session = _client(server)
    with client:
        found = client.tokens()
    if json_out:
        emit_json(found)
        return
    for token in found:
        state = "revoked" if token["revoked_at"] else f"expires {token['expires_at']}"
        stdout.print(
            f"{token['id']}  {token['name']}  {' '.join(token['scopes'])}  {state}", markup=False
        )


@token_app.command("revoke")
def token_revoke(
    token_id: str = typer.Argument(..., help="The id of the token (tok_...)."),
    server: str | None = ServerOption,
) -> None:
    """Revoke an API token now."""
    client, _session = _client(server)
    with client:
        client.revoke_token(token_id)
    stdout.print(f"revoked {token_id}")


# -- passkeys ------------------------------------------------------------------------


@passkeys_app.command("list")
def passkeys_list(server: str | None = ServerOption, json_out: bool = JsonOption) -> None:
    """Your passkeys: id, name, when added and last used."""
    client, _session = _client(server)
    with client:
        found = client.passkeys()
    if json_out:
        emit_json(found)
        return
    for passkey in found:
        used = passkey["last_used_at"] or "never used"
        stdout.print(
            f"{passkey['id']}  {passkey['name']}  added {passkey['created_at']}  {used}",
            markup=False,
        )


@passkeys_app.command("remove")
def passkeys_remove(
    passkey_id: str = typer.Argument(..., help="The id of the passkey (pk_...)."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin."
    ),
    otp: str | None = typer.Option(
        None, "--otp", help="A TOTP code (or a recovery code); asked if missing."
    ),
    server: str | None = ServerOption,
) -> None:
    """Remove a passkey; asks for your password and a code again (a sensitive change)."""
    password = _password(password_stdin)
    if otp is None:
        if not sys.stdin.isatty():
            fail("a second factor is needed: use --otp CODE")
        otp = input("TOTP code: ").strip()
    client, _session = _client(server)
    with client:
        client.remove_passkey(passkey_id, password=password, otp=otp)
    stdout.print(f"removed {passkey_id}")


# -- keys ------------------------------------------------------------------------


def keygen(
    passphrase_stdin: bool = typer.Option(
        False, "--passphrase-stdin", help="Read the new passphrase from stdin."
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace existing keys (the old identity stops receiving)."
    ),
    server: str | None = ServerOption,
    json_out: bool = JsonOption,
) -> None:
    """Create this device's identity and signing key, store them encrypted, publish them."""
    state = LocalState()
    if Keyring.exists(state) and not force:
        fail(f"keys already exist in {state.home}; --force replaces them")
    client, _session = _client(server)
    passphrase = _passphrase(passphrase_stdin, confirm=True)
    assert passphrase is not None  # noqa: S101  (required=True)
    keyring = Keyring.generate()
    keyring.save(state, passphrase, pending=True)
    try:
        with client:
            published = client.publish_keys(
                keyring.recipient, keyring.ed25519_public, keyring.self_signature()
            )
    except BaseException:
        Keyring.discard_pending(state)
        raise
    Keyring.commit_pending(state)
    bundle = {
        "key_id": str(published["key_id"]),
        "recipient": keyring.recipient,
        "fingerprint": keyring.fingerprint,
    }
    state.save_public(bundle)
    if json_out:
        emit_json(bundle)
    else:
        stdout.print(f"keys created in {state.home} and published")
        stdout.print(f"your fingerprint: {keyring.fingerprint}")


@identity_app.command("export")
def identity_export(
    output: Path = typer.Option(..., "-o", "--output", help="File to write ('-' for stdout)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    passphrase_stdin: bool = PassphraseStdinOption,
) -> None:
    """Write your X25519 identity as a plain age identity file (for `age -d -i FILE`)."""
    state = LocalState()
    passphrase = _passphrase(passphrase_stdin)
    keyring = require_keys(state, passphrase)
    text = keyring.identity_file()
    if str(output) == "-":
        sys.stdout.write(text)
        return
    target = output.expanduser()
    if target.exists() and not force:
        fail(f"{target} exists; --force overwrites it")
    write_private(target, text.encode())
    stderr.print(f"identity written to {target} (keep it secret)")


@keys_app.command("show")
def keys_show(
    target: str | None = typer.Argument(None, help="An e-mail or organisation (default: you)."),
    server: str | None = ServerOption,
    json_out: bool = JsonOption,
) -> None:
    """Show fingerprints to compare out of band: yours, or a correspondent's."""
    state = LocalState()
    if target is None:
        public = state.load_public()
        if public is None:
            raise LocalStateError("no keys on this device: run `scelle keygen`")
        if json_out:
            emit_json(public)
        else:
            stdout.print(f"your fingerprint: {public['fingerprint']}")
            stdout.print(f"your recipient:   {public['recipient']}")
        return
    client, _session = _client(server)
    with client:
        entries = client.directory([target])
    rows = []
    for entry in entries:
        fingerprint = pins.fingerprint_of(entry)
        rows.append(
            {
                "user_id": entry["user_id"],
                "email": entry["email"],
                "org": entry["org"],
                "key_id": entry["key_id"],
                "fingerprint": fingerprint,
                "pin": pins.assess(state, entry),
            }
        )
    if json_out:
        emit_json(rows)
        return
    for row in rows:
        stdout.print(f"{row['email']} ({row['org']})  {row['fingerprint']}  [{row['pin']}]")


@keys_app.command("trust")
def keys_trust(
    email: str = typer.Argument(..., help="The correspondent whose current key you checked."),
    server: str | None = ServerOption,
    json_out: bool = JsonOption,
) -> None:
    """Pin a correspondent's current key (after comparing its fingerprint with them)."""
    state = LocalState()
    entry = _single_entry(server, email)
    fingerprint = pins.fingerprint_of(entry)
    previous = pins.trust(state, str(entry["user_id"]), str(entry["email"]), fingerprint, entry)
    if json_out:
        emit_json({"email": entry["email"], "fingerprint": fingerprint, "previous": previous})
    else:
        stdout.print(f"trusted {entry['email']}: {fingerprint}")
        if previous and previous != fingerprint:
            stdout.print(f"(replaces {previous})")


def _single_entry(server: str | None, email: str) -> dict[str, Any]:
    """The directory entry of ``email`` (its current key), or a one-line error."""
    client, _session = _client(server)
    with client:
        found = client.directory([email])
    entries = [e for e in found if str(e["email"]).lower() == email.lower()]
    if len(entries) != 1:
        fail(f"no single user with a published key is named {email}")
    return entries[0]


@keys_app.command("accept")
def keys_accept(
    email: str = typer.Argument(..., help="The correspondent who rotated their key."),
    server: str | None = ServerOption,
    json_out: bool = JsonOption,
) -> None:
    """Accept a correspondent's rotated key, when the key you pinned signed the new one."""
    state = LocalState()
    entry = _single_entry(server, email)
    previous = pins.accept(state, entry)
    fingerprint = pins.fingerprint_of(entry)
    if json_out:
        emit_json({"email": entry["email"], "fingerprint": fingerprint, "previous": previous})
    else:
        stdout.print(f"accepted the rotation of {entry['email']}: {previous} -> {fingerprint}")


@keys_app.command("rotate")
def keys_rotate(
    passphrase_stdin: bool = typer.Option(
        False,
        "--passphrase-stdin",
        help="Read the passphrase from stdin (it unlocks the current keys and protects the new).",
    ),
    server: str | None = ServerOption,
    json_out: bool = JsonOption,
) -> None:
    """Replace your keys by new ones that your current key signs (correspondents verify it)."""
    state = LocalState()
    passphrase = _passphrase(passphrase_stdin)
    assert passphrase is not None  # noqa: S101  (required=True)
    current = require_keys(state, passphrase)
    client, _session = _client(server)
    successor = Keyring.generate()
    successor.save(state, passphrase, pending=True)
    try:
        with client:
            published = client.publish_keys(
                successor.recipient,
                successor.ed25519_public,
                successor.self_signature(),
                rotation_signature=current.rotation_signature(successor),
            )
    except BaseException:
        Keyring.discard_pending(state)
        raise
    retired = Keyring.retire(state, current.fingerprint)
    Keyring.commit_pending(state)
    bundle = {
        "key_id": str(published["key_id"]),
        "recipient": successor.recipient,
        "fingerprint": successor.fingerprint,
    }
    state.save_public(bundle)
    if json_out:
        emit_json({**bundle, "previous": current.fingerprint, "retired": str(retired)})
    else:
        stdout.print(f"rotated: {current.fingerprint} -> {successor.fingerprint}")
        stdout.print(f"the old keys are kept in {retired} (for transfers already sent to them)")


@keys_app.command("revoke")
def keys_revoke(
    yes: bool = typer.Option(False, "--yes", help="Do it (nothing is revoked without it)."),
    server: str | None = ServerOption,
    json_out: bool = JsonOption,
) -> None:
    """Revoke your published key: nobody can send to it any more (until you publish a new one)."""
    if not yes:
        fail("revoking stops every new transfer to you until you publish a key; add --yes")
    client, _session = _client(server)
    with client:
        result = client.revoke_key()
    if json_out:
        emit_json(result)
    else:
        stdout.print(
            f"revoked {result['revoked_keys']} key(s);"
            " run `scelle keygen --force` to publish new ones"
        )


@keys_app.command("lost-device")
def keys_lost_device(
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read your account password from stdin."
    ),
    otp: str | None = typer.Option(None, "--otp", help="A TOTP code or a recovery code."),
    passphrase_stdin: bool = typer.Option(
        False,
        "--passphrase-stdin",
        help="Read the new keys' passphrase from stdin (after the password, when both are).",
    ),
    force: bool = typer.Option(False, "--force", help="Replace keys already on this device."),
    server: str | None = ServerOption,
    json_out: bool = JsonOption,
) -> None:
    """After `scelle login` on a new device: revoke all keys and other sessions, publish new."""
    state = LocalState()
    if Keyring.exists(state) and not force:
        fail(f"keys already exist in {state.home}; --force replaces them")
    client, session = _client(server)
    password = _password(password_stdin)
    if otp is None:
        if not sys.stdin.isatty():
            fail("a second factor is needed: use --otp CODE")
        otp = input("TOTP code: ").strip()
    passphrase = _passphrase(passphrase_stdin, confirm=True)
    assert passphrase is not None  # noqa: S101  (required=True)
    keyring = Keyring.generate()
    keyring.save(state, passphrase, pending=True)
    try:
        with client:
            result = client.lost_device(
                password, otp, keyring.recipient, keyring.ed25519_public, keyring.self_signature()
            )
    except BaseException:
        Keyring.discard_pending(state)
        raise
    Keyring.commit_pending(state)
    session.token = str(result["token"])
    state.save_session(session)
    bundle = {
        "key_id": str(result["key"]["key_id"]),
        "recipient": keyring.recipient,
        "fingerprint": keyring.fingerprint,
    }
    state.save_public(bundle)
    if json_out:
        emit_json(
            {
                **bundle,
                "revoked_keys": result["revoked_keys"],
                "revoked_tokens": result["revoked_tokens"],
            }
        )
    else:
        stdout.print(
            f"revoked {result['revoked_keys']} key(s) and {result['revoked_tokens']} other"
            " session(s); new keys published"
        )
        stdout.print(f"your new fingerprint: {keyring.fingerprint} (tell your correspondents)")


# -- transfers -------------------------------------------------------------------


def send_command(
    files: list[Path] = typer.Argument(..., help="Files to send (one transfer each)."),
    to: list[str] = typer.Option(
        ..., "--to", help="Organisation name or e-mail; repeat (or separate with commas)."
    ),
    expires: str | None = typer.Option(
        None, "--expires", help="Time to live, e.g. 3d (server default 7d, policy maximum)."
    ),
    max_downloads: int | None = typer.Option(
        None, "--max-downloads", min=1, help="Delete after this many downloads."
    ),
    note: str = typer.Option("", "--note", help="A note for the recipients (encrypted)."),
    purpose: str | None = typer.Option(
        None,
        "--purpose",
        help="Why these identifiers are sent (recorded encrypted; some policies require it).",
    ),
    key_file: Path | None = typer.Option(
        None,
        "--key-file",
        envvar="SCELLE_PSEUDONYM_KEY",
        help="The organisation's pseudonymisation key for the subject index "
        "(default: SCELLE_HOME/pseudonym.key, created on first use).",
    ),
    passphrase_stdin: bool = PassphraseStdinOption,
    server: str | None = ServerOption,
    json_out: bool = JsonOption,
) -> None:
    """Scan, encrypt, sign and upload files for recipients; an interrupted send resumes when rerun.

    Each file is scanned first and checked against your organisation's send policy; the
    server receives only counts and keyed pseudonyms of the people the file names."""
    targets = [part.strip() for item in to for part in item.split(",") if part.strip()]
    expires_in = _duration(expires) if expires is not None else None
    for path in files:
        if not path.expanduser().is_file():
            fail(f"not a readable file: {path}")
    state = LocalState()
    keyring = require_keys(state, _passphrase(passphrase_stdin))
    client, _session = _client(server)
    prune_outbox(state)
    results = []
    from scelle.client.minimisation import declare

    with client:
        rules = dict(client.send_policy().get("rules", {}))
        declarations = [
            declare(client, path.expanduser(), purpose=purpose, key_file=key_file, rules=rules)
            for path in files
        ]
    for path, declaration in zip(files, declarations, strict=True):
        for warning in declaration.warnings:
            stderr.print(f"warning: {path.name}: {warning}")
    client, _session = _client(server)
    with client, _progress() as progress:
        for path, declaration in zip(files, declarations, strict=True):
            result = send(
                client,
                state,
                keyring,
                path.expanduser(),
                targets,
                expires_in=expires_in,
                max_downloads=max_downloads,
                note=note,
                progress=progress,
                declared=declaration.body,
                purpose=purpose,
            )
            results.append(result.to_dict())
            if not json_out:
                how = " (resumed)" if result.resumed else ""
                stdout.print(
                    f"sent {result.transfer_id}{how} to {', '.join(result.recipients)};"
                    f" expires {result.expires_at}"
                )
    if json_out:
        emit_json(results)


def inbox_command(
    passphrase_stdin: bool = PassphraseStdinOption,
    server: str | None = ServerOption,
    json_out: bool = JsonOption,
) -> None:
    """Transfers waiting for you (names decrypted when the local keys can be unlocked)."""
    state = LocalState()
    passphrase = _passphrase(passphrase_stdin, required=False)
    keyring = require_keys(state, passphrase) if passphrase else None
    client, _session = _client(server)
    with client:
        items = inbox(client, state, keyring)
    if json_out:
        emit_json(items)
        return
    if not items:
        stdout.print("no transfer waiting")
    for item in items:
        flag = "" if item["verified"] else "  [NOT VERIFIED]"
        if item.get("sender_key") == "changed":
            flag = "  [SENDER KEY CHANGED]"
        name = item["name"] if item["name"] is not None else "(name locked)"
        stdout.print(
            f"{item['id']}  {name}  {_size(item['size'])}  from {item['sender']}"
            f" ({item['sender_org']})  expires {item['expires_at']}{flag}",
            markup=False,
        )
    if keyring is None:
        stderr.print(f"names are shown once the keys are unlocked ({PASSPHRASE_ENV})")


def sent_command(server: str | None = ServerOption, json_out: bool = JsonOption) -> None:
    """Transfers you sent, with their status and download counts."""
    client, _session = _client(server)
    with client:
        items = sent(client)
    if json_out:
        emit_json(items)
        return
    if not items:
        stdout.print("nothing sent")
    for item in items:
        limit = item["max_downloads"] if item["max_downloads"] is not None else "∞"
        stdout.print(
            f"{item['id']}  {item['status']}  {_size(item['payload_size'])}"
            f"  to {', '.join(item['recipients'])}  downloads {item['download_count']}/{limit}"
            f"  expires {item['expires_at']}",
            markup=False,
        )


def receive_command(
    transfer_id: str = typer.Argument(..., help="The transfer id (tr_...)."),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="File to write, or a folder (default: the current one)."
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
    passphrase_stdin: bool = PassphraseStdinOption,
    server: str | None = ServerOption,
    json_out: bool = JsonOption,
) -> None:
    """Download, verify the sender's signature, and decrypt a transfer."""
    state = LocalState()
    keyring = require_keys(state, _passphrase(passphrase_stdin))
    target = output.expanduser() if output is not None else None
    if target is not None and not target.is_dir() and target.exists() and not force:
        raise ClientError(f"{target} exists; --force replaces it")
    client, _session = _client(server)
    with client, _progress() as progress:
        result = receive(client, state, keyring, transfer_id, target, progress=progress)
    if json_out:
        emit_json(result.to_dict())
        return
    stdout.print(
        f"received {result.transfer_id} from {result.sender} into {result.path}"
        f" ({_size(result.size)}; signature verified)",
        markup=False,
    )
    if result.note:
        stdout.print(f"note: {result.note}", markup=False)


def receipts_command(
    offline: bool = typer.Option(
        False, "--offline", help="List only; do not ask the server for proofs."
    ),
    server: str | None = ServerOption,
    json_out: bool = JsonOption,
) -> None:
    """Audit receipts of your uploads and downloads, proved against the signed log.

    Pending receipts are proved against the server's newest checkpoint, signed
    by the log key pinned on first use; a changed key, a rollback or a fork is
    refused.
    """
    state = LocalState()
    if offline:
        kept = receipts.load(state)
    else:
        client, _session = _client(server)
        with client:
            kept = receipts.refresh(client, state)
    if json_out:
        emit_json(kept)
        return
    if not kept:
        stdout.print("no receipts yet")
    for receipt in kept:
        proved = (
            f"verified in tree of {receipt['tree_size']}"
            if receipt.get("status") == "verified"
            else "pending (no checkpoint covers it yet)"
        )
        stdout.print(
            f"{receipt['received_at']}  {receipt['kind']:<8} {receipt.get('ref') or '-'}"
            f"  leaf {receipt['leaf_index']}  {proved}",
            markup=False,
        )


def history_command(
    transfer_id: str = typer.Argument(..., help="The transfer id (tr_...)."),
    server: str | None = ServerOption,
    json_out: bool = JsonOption,
) -> None:
    """One transfer's life from the audit log (created, uploaded, sealed, downloaded, purged).

    For its sender and recipients. Each line gives the event's leaf in the
    log, which `scelle receipts` proves against the signed checkpoints.
    """
    client, _session = _client(server)
    with client:
        events = client.transfer_history(transfer_id)
    if json_out:
        emit_json(events)
        return
    for event in events:
        entry = event["entry"]
        extra = " ".join(f"{k}={v}" for k, v in sorted(entry.get("data", {}).items()))
        stdout.print(
            f"{event['leaf_index']:>8}  {entry['at']}  {entry['tag']:<28}"
            f" actor={entry.get('actor_id') or '-'}  {extra}",
            markup=False,
        )


def register(app: typer.Typer) -> None:
    """Add the client commands to the root ``scelle`` command."""
    app.command("enrol")(enrol)
    app.command("login")(login)
    app.command("logout")(logout)
    app.command("whoami")(whoami)
    app.command("keygen")(keygen)
    app.add_typer(identity_app, name="identity")
    app.add_typer(keys_app, name="keys")
    app.add_typer(token_app, name="token")
    app.add_typer(passkeys_app, name="passkeys")
    app.command("send")(send_command)
    app.command("inbox")(inbox_command)
    app.command("sent")(sent_command)
    app.command("receive")(receive_command)
    app.command("receipts")(receipts_command)
    app.command("history")(history_command)

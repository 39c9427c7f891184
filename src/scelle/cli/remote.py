"""Client commands that talk to a Scellé server: enrol, login, keys, send, inbox, receive.

Thin over ``scelle.client``; never imports server code (import-linter). Every
command works without a terminal: ``--password-stdin``, ``--otp``,
``--passphrase-stdin`` or ``SCELLE_PASSPHRASE``, ``--json``.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer

from scelle.cli.console import emit_json, fail, make_progress, stdout
from scelle.client import pins
from scelle.client.api import ScelleClient
from scelle.client.keyring import Keyring
from scelle.client.state import LocalState, Session, write_private
from scelle.client.transfer import open_metadata, receive, send, verify_transfer
from scelle.errors import ClientError

__all__ = ["register"]

PASSPHRASE_ENV = "SCELLE_PASSPHRASE"  # noqa: S105  (the name of a variable)
ServerOption = typer.Option(
    None, "--server", envvar="SCELLE_SERVER", help="Server URL (default: the saved session)."
)
JsonOption = typer.Option(False, "--json", help="Print the result as JSON.")
_DURATION = re.compile(r"\A(\d{1,6})([smhdw]?)\Z")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

keys_app = typer.Typer(help="Show and trust correspondents' keys.", no_args_is_help=True)
identity_app = typer.Typer(help="Your local identity.", no_args_is_help=True)


# -- plumbing -------------------------------------------------------------------


def _state() -> LocalState:
    return LocalState()


def _session(server: str | None, *, logged_in: bool = True) -> Session:
    session = _state().load_session(server)
    if logged_in and not session.token:
        fail("not logged in: run `scelle login --email EMAIL`")
    return session


@contextlib.contextmanager
def _client(server: str | None, *, logged_in: bool = True) -> Iterator[ScelleClient]:
    session = _session(server, logged_in=logged_in)
    with ScelleClient(session.server, session.token) as client:
        yield client


def _read_secret(prompt: str, *, from_stdin: bool, env: str | None = None) -> str:
    if from_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
    elif env and os.environ.get(env):
        value = os.environ[env]
    elif sys.stdin.isatty():
        value = getpass.getpass(prompt)
    else:
        hint = f" or set {env}" if env else ""
        fail(
            f"no terminal to ask for the {prompt.rstrip(': ').lower()}: use the -stdin option{hint}"
        )
    if not value:
        fail(f"the {prompt.rstrip(': ').lower()} is empty")
    return value


def _keyring(*, from_stdin: bool = False) -> Keyring:
    passphrase = _read_secret("Passphrase: ", from_stdin=from_stdin, env=PASSPHRASE_ENV)
    return Keyring.load(_state(), passphrase)


def parse_duration(text: str) -> int:
    """``90m``, ``12h``, ``3d``, ``1w`` or seconds, as seconds."""
    match = _DURATION.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        fail(f"invalid duration {text!r}: use e.g. 90m, 12h, 3d or 1w")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _progress_factory(bar: Any) -> Callable[[str, int | None], Callable[[int], None]]:
    def factory(label: str, total: int | None) -> Callable[[int], None]:
        task = bar.add_task(label, total=total)
        return lambda count: bar.advance(task, count)

    return factory


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


# -- accounts ---------------------------------------------------------------------


def enrol(
    token: str = typer.Option(..., "--token", help="The one-time enrolment token (enr_...)."),
    server: str | None = ServerOption,
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the new password from the first line of stdin."
    ),
    json_out: bool = JsonOption,
) -> None:
    """Set your password with an enrolment token; prints your TOTP secret and recovery codes."""
    password = _read_secret("New password: ", from_stdin=password_stdin)
    state = _state()
    session = state.load_session(server)
    with ScelleClient(session.server) as client:
        result = client.enrol(token, password)
    state.save_session(Session(server=session.server, email=result["email"]))
    if json_out:
        emit_json(result)
        return
    stdout.print(f"enrolled {result['email']} ({result['org']})")
    stdout.print(f"TOTP secret (add it to your authenticator app): {result['totp_secret']}")
    stdout.print(f"  {result['totp_uri']}")
    stdout.print("recovery codes (each works once; keep them offline):")
    for code in result["recovery_codes"]:
        stdout.print(f"  {code}")
    stdout.print("next: scelle login --email " + result["email"])


def login(
    email: str | None = typer.Option(None, "--email", help="Your e-mail (default: saved)."),
    server: str | None = ServerOption,
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    otp: str | None = typer.Option(
        None, "--otp", help="The current TOTP code (or a recovery code)."
    ),
    json_out: bool = JsonOption,
) -> None:
    """Log in with your password and second factor; the API token is kept in SCELLE_HOME."""
    state = _state()
    session = state.load_session(server)
    address = email or session.email
    if not address:
        fail("give --email")
    password = _read_secret("Password: ", from_stdin=password_stdin)
    code = otp or _read_secret("TOTP code: ", from_stdin=False)
    with ScelleClient(session.server) as client:
        result = client.login(address, password, code)
    user = result.get("user", {})
    state.save_session(
        Session(
            server=session.server,
            token=result["token"],
            user_id=user.get("id"),
            email=user.get("email", address),
            org=user.get("org"),
        )
    )
    if json_out:
        emit_json({k: v for k, v in result.items() if k != "token"})
    else:
        stdout.print(f"logged in as {address} on {session.server}")


def logout(server: str | None = ServerOption) -> None:
    """Revoke this device's API token and forget it."""
    state = _state()
    session = _session(server)
    with ScelleClient(session.server, session.token) as client, contextlib.suppress(ClientError):
        client.logout()
    state.save_session(Session(server=session.server, email=session.email))
    stdout.print("logged out")


def whoami(server: str | None = ServerOption, json_out: bool = JsonOption) -> None:
    """Who this device is logged in as."""
    with _client(server) as client:
        me = client.me()
    if json_out:
        emit_json(me)
    else:
        stdout.print(f"{me['email']} ({me['org']}), roles: {', '.join(me['roles'])}")


# -- keys -----------------------------------------------------------------------------


def keygen(
    server: str | None = ServerOption,
    passphrase_stdin: bool = typer.Option(
        False, "--passphrase-stdin", help="Read the passphrase from the first line of stdin."
    ),
    force: bool = typer.Option(False, "--force", help="Replace existing keys (they are lost)."),
    json_out: bool = JsonOption,
) -> None:
    """Create your keys on this device (kept encrypted under a passphrase) and publish them."""
    state = _state()
    if Keyring.exists(state) and not force:
        fail(f"keys already exist in {state.home}; use --force to replace them")
    passphrase = _read_secret("Passphrase: ", from_stdin=passphrase_stdin, env=PASSPHRASE_ENV)
    keyring = Keyring.generate()
    session = _session(server)
    with ScelleClient(session.server, session.token) as client:
        published = client.publish_keys(
            keyring.recipient, keyring.ed25519_public, keyring.self_signature()
        )
    keyring.save(state, passphrase)
    if session.user_id and session.email:
        pins.trust(state, session.user_id, session.email, keyring.fingerprint)
    result = {
        "key_id": published.get("key_id"),
        "recipient": keyring.recipient,
        "fingerprint": keyring.fingerprint,
    }
    if json_out:
        emit_json(result)
    else:
        stdout.print(f"keys created and published; fingerprint: {keyring.fingerprint}")
        stdout.print(f"recipient: {keyring.recipient}")


@keys_app.command("show")
def keys_show(
    target: str | None = typer.Argument(None, help="An e-mail or organisation (default: you)."),
    server: str | None = ServerOption,
    json_out: bool = JsonOption,
) -> None:
    """Show fingerprints to compare out of band, and whether each is pinned."""
    state = _state()
    if target is None:
        keyring = _keyring()
        result: Any = {"recipient": keyring.recipient, "fingerprint": keyring.fingerprint}
        if json_out:
            emit_json(result)
        else:
            stdout.print(f"your fingerprint: {keyring.fingerprint}\nrecipient: {keyring.recipient}")
        return
    with _client(server) as client:
        found = client.directory([target])
    pinned = state.load_pins()
    rows = []
    for entry in found:
        fingerprint = pins.fingerprint_of(entry)
        pin = pinned.get(entry["user_id"], {}).get("fingerprint")
        status = "new" if pin is None else ("pinned" if pin == fingerprint else "CHANGED")
        rows.append({"email": entry["email"], "fingerprint": fingerprint, "status": status})
    if json_out:
        emit_json(rows)
        return
    if not rows:
        fail(f"no one with a published key for {target}")
    for row in rows:
        stdout.print(f"{row['email']:<32} {row['fingerprint']}  [{row['status']}]")


@keys_app.command("trust")
def keys_trust(
    email: str = typer.Argument(..., help="The correspondent whose current key you confirm."),
    server: str | None = ServerOption,
) -> None:
    """Pin a correspondent's current key (after comparing its fingerprint with them)."""
    with _client(server) as client:
        found = [e for e in client.directory([email]) if e["email"] == email.lower()]
    if not found:
        fail(f"{email} has no published key")
    entry = found[0]
    fingerprint = pins.fingerprint_of(entry)
    previous = pins.trust(_state(), entry["user_id"], entry["email"], fingerprint)
    change = f" (was {previous})" if previous and previous != fingerprint else ""
    stdout.print(f"trusted {entry['email']}: {fingerprint}{change}")


@identity_app.command("export")
def identity_export(
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default: stdout)."),
) -> None:
    """Write your X25519 identity as a plain age identity file (for `age -d -i FILE`)."""
    keyring = _keyring()
    text = (
        "# Scellé identity: keep it secret; decrypt with `age -d -i THIS_FILE`\n"
        f"# public key: {keyring.recipient}\n{keyring.identity}\n"
    )
    if output is None:
        sys.stdout.write(text)
        return
    write_private(output.expanduser().resolve(), text.encode())
    stdout.print(f"identity written to {output} (mode 0600)")


# -- transfers --------------------------------------------------------------------------


def send_command(
    files: list[Path] = typer.Argument(..., help="Files to send (one transfer each)."),
    to: list[str] = typer.Option(
        ..., "--to", help="An organisation (its recipients) or an e-mail. Repeatable."
    ),
    expires: str = typer.Option("7d", "--expires", help="Expiry: 90m, 12h, 3d, 1w (max 30d)."),
    max_downloads: int | None = typer.Option(
        None, "--max-downloads", min=1, help="Delete after this many downloads per transfer."
    ),
    note: str = typer.Option("", "--note", help="A note for the recipients (encrypted)."),
    server: str | None = ServerOption,
    json_out: bool = JsonOption,
) -> None:
    """Encrypt, sign and upload files for recipients; resumes an interrupted send."""
    keyring = _keyring()
    expires_in = parse_duration(expires)
    results = []
    with _client(server) as client, make_progress() as bar:
        for path in files:
            result = send(
                client,
                _state(),
                keyring,
                path,
                to,
                note=note,
                expires_in=expires_in,
                max_downloads=max_downloads,
                progress=_progress_factory(bar),
            )
            assert result is not None  # noqa: S101  (no max_chunks given)
            results.append(result)
    if json_out:
        emit_json([vars(r) for r in results])
        return
    for r in results:
        again = " (resumed)" if r.resumed else ""
        stdout.print(
            f"sent {r.name} ({_human(r.size)}) to {', '.join(r.recipients)} as {r.transfer_id}"
            f"{again}; expires {r.expires_at}"
        )


def _listing(box: str, server: str | None) -> list[dict[str, Any]]:
    keyring = _keyring()
    state = _state()
    rows = []
    with _client(server) as client:
        transfers = client.transfers(box)
    for transfer in transfers:
        row: dict[str, Any] = {
            "id": transfer["id"],
            "status": transfer["status"],
            "from": transfer["sender"]["email"],
            "to": [r["email"] for r in transfer["recipients"]],
            "size": transfer["payload_size"],
            "expires_at": transfer["expires_at"],
            "downloads": transfer["download_count"],
            "max_downloads": transfer["max_downloads"],
            "name": None,
            "note": None,
            "problem": None,
        }
        try:
            if box == "inbox":
                verify_transfer(state, transfer)
                metadata = open_metadata(transfer, keyring)
                row.update(name=metadata.name, note=metadata.note, size=metadata.size)
        except ClientError as exc:
            row["problem"] = exc.diagnostics()
        rows.append(row)
    return rows


def _print_rows(rows: list[dict[str, Any]], party: str) -> None:
    if not rows:
        stdout.print("nothing here")
        return
    for row in rows:
        who = row["from"] if party == "from" else ", ".join(row["to"])
        name = row["name"] or ("⚠ " + row["problem"] if row["problem"] else "")
        limit = f"{row['downloads']}/{row['max_downloads'] or '∞'}"
        stdout.print(
            f"{row['id']}  {party} {who}  {name}  {_human(row['size'])}  "
            f"downloads {limit}  expires {row['expires_at']}  [{row['status']}]"
        )


def inbox(server: str | None = ServerOption, json_out: bool = JsonOption) -> None:
    """Transfers waiting for you (names decrypted on this device)."""
    rows = _listing("inbox", server)
    if json_out:
        emit_json(rows)
    else:
        _print_rows(rows, "from")


def sent(server: str | None = ServerOption, json_out: bool = JsonOption) -> None:
    """Transfers you sent, with their download counts."""
    rows = _listing("sent", server)
    if json_out:
        emit_json(rows)
    else:
        _print_rows(rows, "to")


def receive_command(
    transfer_id: str = typer.Argument(..., help="The transfer id (tr_...)."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="File or folder (default: the sender's name, here)."
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
    server: str | None = ServerOption,
    json_out: bool = JsonOption,
) -> None:
    """Download, verify the sender's signature, and decrypt a transfer."""
    keyring = _keyring()
    with _client(server) as client, make_progress() as bar:
        result = receive(
            client,
            _state(),
            keyring,
            transfer_id,
            output,
            overwrite=force,
            progress=_progress_factory(bar),
        )
    if json_out:
        emit_json(vars(result))
    else:
        stdout.print(
            f"received {result.name} ({_human(result.size)}) from {result.sender}: {result.path}"
        )
        if result.note:
            stdout.print(f"note: {result.note}")


def register(app: typer.Typer) -> None:
    """Add the client commands to the root command."""
    app.command("enrol")(enrol)
    app.command("login")(login)
    app.command("logout")(logout)
    app.command("whoami")(whoami)
    app.command("keygen")(keygen)
    app.command("send")(send_command)
    app.command("inbox")(inbox)
    app.command("sent")(sent)
    app.command("receive")(receive_command)
    app.add_typer(keys_app, name="keys")
    app.add_typer(identity_app, name="identity")
